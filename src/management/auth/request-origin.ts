import { isIP } from 'node:net';

/**
 * Host and Origin rules of the management listener. IP literals and localhost are always fine as
 * a Host: DNS rebinding needs a name the attacker controls, so other names must be listed.
 */
export interface OriginPolicy {
  allowedHosts: readonly string[];
  trustedOrigins: readonly string[];
}

/** The host name of a Host header (`[::1]:5000` → `::1`, `Deploy.Local:80` → `deploy.local`). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function isHostAllowed(host: string | undefined, policy: OriginPolicy): boolean {
  if (!host) return false;
  const name = hostName(host);
  return isIP(name) !== 0 || name === 'localhost' || policy.allowedHosts.some((h) => h.toLowerCase() === name);
}

/**
 * Whether a state-changing request comes from the page itself: its Origin (or, when a browser
 * left Origin out, its Referer's origin) must be the origin the browser used to reach us or a
 * trusted one. A request with neither header is not from a browser page and passes this check;
 * CSRF tokens and SameSite cookies still stand in its way.
 */
export function isOriginAllowed(
  headers: { origin?: string | undefined; referer?: string | undefined },
  self: string,
  policy: OriginPolicy,
): boolean {
  let origin = headers.origin;
  if (origin === undefined && headers.referer) {
    try {
      origin = new URL(headers.referer).origin;
    } catch {
      return false;
    }
  }
  if (origin === undefined) return true;
  const o = origin.toLowerCase();
  return o === self.toLowerCase() || policy.trustedOrigins.some((t) => t.toLowerCase() === o);
}
