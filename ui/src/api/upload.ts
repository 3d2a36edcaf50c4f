import { ApiError, NETWORK_ERROR } from './client.js';

/**
 * Uploads a file as the raw request body, the way the images route takes it (streamed on the
 * server, never buffered). XHR rather than fetch because only XHR reports upload progress.
 */
export interface Upload<T> {
  done: Promise<T>;
  abort(): void;
}

export function uploadFile<T>(
  url: string,
  file: Blob,
  headers: Record<string, string>,
  onProgress: (sentBytes: number, totalBytes: number) => void,
): Upload<T> {
  const xhr = new XMLHttpRequest();
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: { error?: unknown; code?: unknown; details?: unknown } | undefined;
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as T);
      const message = typeof body?.error === 'string' ? body.error : `The server answered ${xhr.status}`;
      const code = typeof body?.code === 'string' ? body.code : `HTTP_${xhr.status}`;
      reject(new ApiError(message, xhr.status, code, (body?.details as Record<string, unknown> | undefined) ?? {}));
    };
    xhr.onerror = () =>
      reject(
        new ApiError('The upload was cut off; check the connection to the server and try again', 0, NETWORK_ERROR),
      );
    xhr.onabort = () => reject(new ApiError('Upload cancelled', 0, 'UPLOAD_ABORTED'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
