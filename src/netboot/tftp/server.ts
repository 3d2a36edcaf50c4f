import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../lib/logger.js';
import { decodePacket, encodeError, toNetascii } from './codec.js';
import { TFTP_ERROR, TftpError } from './errors.js';
import { negotiate, type TftpLimits } from './options.js';
import { TftpSession, type TftpClient } from './session.js';
import { transferSockets } from './transfer-socket.js';
import type { Outcome } from './transfer.js';

/** A file to send; `serial8` names the board it was generated or chosen for (null: any board). */
export interface TftpFile {
  bytes: Buffer;
  serial8: string | null;
}

/** Why a request gets an ERROR instead of a file. */
export interface TftpRefusal {
  refused: 'not-found' | 'access-violation';
  message: string;
}

/** Where files come from (the boot tree in production). Answers quickly: a Pi probes many names. */
export interface TftpFileSource {
  open(path: string, client: TftpClient): Promise<TftpFile | TftpRefusal>;
}

/** One finished transfer, whatever its outcome. */
export interface TransferReport {
  path: string;
  client: TftpClient;
  serial8: string | null;
  outcome: Outcome;
  sizeBytes: number;
  /** Bytes the client acknowledged. */
  bytesAcked: number;
  durationMs: number;
  blksize: number;
  windowsize: number;
}

export interface TftpServerConfig {
  /** The deployment address; the server binds there and nowhere else. */
  address: string;
  port: number;
  limits: TftpLimits;
  maxRetries: number;
  transferDeadlineMs: number;
  maxSessions: number;
  /** SO_RCVBUF/SO_SNDBUF of every transfer socket. */
  socketBufferBytes: number;
}

export interface TftpServerDeps {
  files: TftpFileSource;
  log: Logger;
  /** A file was opened for a read request and its transfer begins (each one later ends in `onTransferEnd`). */
  onTransferStart?: () => void;
  onTransferEnd?: (report: TransferReport) => void;
  now?: () => number;
}

export interface TftpStats {
  requests: number;
  active: number;
  served: number;
  probes: number;
  failed: number;
  refused: number;
  duplicateRequests: number;
  malformed: number;
}

export interface TftpServer {
  /** Binds the listening socket; resolves with the port actually bound (0 picks one). */
  start(): Promise<{ address: string; port: number }>;
  stop(): Promise<void>;
  stats(): Readonly<TftpStats>;
}

/** How often timeouts and deadlines are checked, relative to the retransmission timeout. */
const TICKS_PER_TIMEOUT = 5;

/**
 * A read-only TFTP server: RFC 1350 with RFC 2347/2348/2349 options and RFC 7440 windows. One
 * session per client address and port; requests are answered from a fresh socket each (the
 * RFC's transfer identifier), so many boards read at once.
 */
export function createTftpServer(config: TftpServerConfig, deps: TftpServerDeps): TftpServer {
  const now = deps.now ?? (() => performance.now());
  const log = deps.log;
  const sessions = new Map<string, TftpSession | 'opening'>();
  const stats: TftpStats = {
    requests: 0,
    active: 0,
    served: 0,
    probes: 0,
    failed: 0,
    refused: 0,
    duplicateRequests: 0,
    malformed: 0,
  };
  let listener: Socket | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let stopped = false;

  const malformed = (from: TftpClient, err: TftpError) => {
    stats.malformed++;
    log.debug({ client: from, reason: err.details['reason'] }, 'malformed TFTP datagram skipped');
  };

  const refuse = (client: TftpClient, code: number, message: string) => {
    stats.refused++;
    listener?.send(encodeError(code, message), client.port, client.address);
  };

  async function request(msg: Buffer, client: TftpClient): Promise<void> {
    let packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      if (!(err instanceof TftpError)) throw err;
      return malformed(client, err);
    }
    if (packet.op !== 'RRQ' && packet.op !== 'WRQ') return; // stray DATA/ACK/ERROR on port 69: not a request
    stats.requests++;
    const key = `${client.address}:${client.port}`;
    if (sessions.has(key)) {
      // The client repeated its request because our first answer was slow or lost; the
      // session's own timer resends that answer.
      stats.duplicateRequests++;
      return;
    }
    if (packet.op === 'WRQ') return refuse(client, TFTP_ERROR.ACCESS_VIOLATION, 'This server is read-only');
    if (packet.mode !== 'octet' && packet.mode !== 'netascii')
      return refuse(client, TFTP_ERROR.ILLEGAL_OPERATION, `Transfer mode ${packet.mode} is not supported; use octet`);
    if (sessions.size >= config.maxSessions) return refuse(client, TFTP_ERROR.NOT_DEFINED, 'Server busy; try again');

    sessions.set(key, 'opening');
    const startedAt = now();
    try {
      const file = await deps.files.open(packet.filename, client);
      if (stopped) return;
      if ('refused' in file) {
        log.debug({ client, path: packet.filename, refused: file.refused }, 'TFTP request refused');
        return refuse(
          client,
          file.refused === 'not-found' ? TFTP_ERROR.FILE_NOT_FOUND : TFTP_ERROR.ACCESS_VIOLATION,
          file.message,
        );
      }
      const bytes = packet.mode === 'netascii' ? toNetascii(file.bytes) : file.bytes;
      const n = negotiate(packet.options, bytes.length, config.limits);
      const session = TftpSession.open({
        address: config.address,
        client,
        bytes,
        oack: n.oack,
        params: {
          sizeBytes: bytes.length,
          blksize: n.blksize,
          windowsize: n.windowsize,
          timeoutMs: n.timeoutMs,
          maxRetries: config.maxRetries,
          deadlineAt: startedAt + config.transferDeadlineMs,
          hasOack: n.oack !== null,
        },
        socketBufferBytes: config.socketBufferBytes,
        now,
        onMalformed: (err) => malformed(client, err),
        onEnd: (outcome) => {
          sessions.delete(key);
          stats.active--;
          if (outcome === 'served') stats.served++;
          else if (outcome === 'probe') stats.probes++;
          else stats.failed++;
          const t = session.transfer;
          deps.onTransferEnd?.({
            path: packet.filename,
            client,
            serial8: file.serial8,
            outcome,
            sizeBytes: bytes.length,
            bytesAcked: Math.min(t.acked * t.blksize, bytes.length),
            durationMs: Math.round(now() - startedAt),
            blksize: t.blksize,
            windowsize: t.windowsize,
          });
        },
      });
      if (stopped) return session.close();
      stats.active++;
      deps.onTransferStart?.();
      sessions.set(key, session);
      session.start();
    } catch (err) {
      log.error({ err, client, path: packet.filename }, 'TFTP request failed');
      refuse(client, TFTP_ERROR.NOT_DEFINED, 'Server error; see the rpi-deploy log');
    } finally {
      if (sessions.get(key) === 'opening') sessions.delete(key);
    }
  }

  return {
    async start() {
      transferSockets();
      const socket = createSocket({
        type: 'udp4',
        recvBufferSize: config.socketBufferBytes,
        sendBufferSize: config.socketBufferBytes,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address: config.address, port: config.port, exclusive: true }, () => resolve());
        });
      } catch (cause) {
        socket.close();
        const code = (cause as NodeJS.ErrnoException).code;
        const reason =
          code === 'EADDRINUSE'
            ? 'the port is in use (another TFTP server?)'
            : code === 'EACCES' && config.port < 1024
              ? `the capability CAP_NET_BIND_SERVICE is missing (port ${config.port} is below 1024); run rpi-deploy as the service "rpi-deploy service install" sets up (or as root)`
              : (cause as Error).message;
        throw new TftpError(
          'NETBOOT_TFTP_LISTEN_FAILED',
          `Cannot serve TFTP on ${config.address}:${config.port}: ${reason}; check netboot.address and netboot.tftp.port`,
          {
            address: config.address,
            port: config.port,
          },
          { cause },
        );
      }
      socket.on('error', (err) => log.error({ err }, 'TFTP listening socket error'));
      socket.on('message', (msg, rinfo) => {
        const client = { address: rinfo.address, port: rinfo.port };
        request(msg, client).catch((err: unknown) => log.error({ err, client }, 'TFTP request failed'));
      });
      listener = socket;
      const tickMs = Math.max(10, Math.min(200, Math.floor(config.limits.defaultTimeoutMs / TICKS_PER_TIMEOUT)));
      ticker = setInterval(() => {
        const at = now();
        for (const s of sessions.values()) if (s !== 'opening') s.tick(at);
      }, tickMs);
      const bound = socket.address();
      log.info({ address: bound.address, port: bound.port }, 'TFTP serving');
      return { address: bound.address, port: bound.port };
    },

    async stop() {
      stopped = true;
      clearInterval(ticker);
      for (const s of sessions.values()) if (s !== 'opening') s.close();
      sessions.clear();
      stats.active = 0;
      if (listener) await new Promise<void>((resolve) => listener!.close(() => resolve()));
      listener = undefined;
    },

    stats: () => ({ ...stats }),
  };
}
