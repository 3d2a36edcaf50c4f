import Type, { type Static } from 'typebox';
import { LOG_FORMATS, LOG_LEVELS } from '../lib/log-levels.js';

/**
 * The one configuration of rpi-deploy. Defaults are safe: both listeners on loopback, and no
 * network-boot service until an operator names the deployment interface.
 */

const Listen = (fallback: string, description: string) =>
  Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$', default: fallback, description });

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** A dotted-quad IPv4 address. */
export const IPV4_PATTERN = `^(${OCTET}\\.){3}${OCTET}$`;
const Ipv4 = (options: Record<string, unknown> = {}) => Type.String({ pattern: IPV4_PATTERN, ...options });
/** An IP address or CIDR range (checked further in load.ts), or a name proxy-addr knows. */
const TRUSTED_PROXY_PATTERN = '^([0-9A-Fa-f:.]+(/[0-9]{1,3})?|loopback|linklocal|uniquelocal)$';
const Mac = Type.String({
  pattern: '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$',
  description: 'a MAC address such as 2c:cf:67:01:02:03',
});

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      minLength: 1,
      default: 'data',
      description:
        "where the database (SQLite) and the image store live, kept mode 0700; needs room for every image's chunks (about its compressed size); relative paths are taken from the working directory",
    }),
    device: Type.Object(
      {
        listen: Listen(
          '127.0.0.1:5001',
          'HOST:PORT the device API (what booted boards talk to) listens on; with network boot, the static deployment-LAN address, e.g. 192.168.151.1:5001',
        ),
        silenceMinutes: Type.Integer({
          minimum: 1,
          maximum: 10_080,
          default: 120,
          description:
            'an open deployment whose board reports nothing for this long fails ("no report since …"); its name stays with the board',
        }),
        peers: Type.Boolean({
          default: true,
          description:
            'fleet mode: boards imaging the same image pass its chunks on to each other over HTTP (the server tracks who feeds whom and serves the first board), so the server link stops limiting how many boards image at once; every chunk is still checked against the manifest. false: every board fetches every chunk from the server',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    management: Type.Object(
      {
        listen: Listen(
          '127.0.0.1:5000',
          'HOST:PORT for the management API and web UI; never the deployment LAN. To reach it from another machine, use an SSH tunnel, or a management-network address with management.allowedHosts (and management.tls or a reverse proxy)',
        ),
        session: Type.Object(
          {
            idleMinutes: Type.Integer({
              minimum: 1,
              maximum: 10080,
              default: 120,
              description: 'a session unused this long ends',
            }),
            absoluteHours: Type.Integer({
              minimum: 1,
              maximum: 720,
              default: 12,
              description: 'a session ends this long after login, used or not',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        loginLimit: Type.Object(
          {
            perPair: Type.Integer({
              minimum: 1,
              default: 5,
              description:
                'failed sign-ins for one username from one address before each further try from there must wait',
            }),
            perAddress: Type.Integer({
              minimum: 1,
              default: 20,
              description:
                'failed sign-ins from one address, whatever the usernames, before each further try from it must wait',
            }),
            firstDelaySeconds: Type.Integer({
              minimum: 1,
              default: 30,
              description: 'the first wait past a limit; each further failure doubles it',
            }),
            maxDelayMinutes: Type.Integer({
              minimum: 1,
              default: 15,
              description: 'the longest wait between tries (the cap)',
            }),
            forgetAfterMinutes: Type.Integer({
              minimum: 1,
              default: 60,
              description: 'failures are forgotten once this long passes without a new one',
            }),
          },
          {
            additionalProperties: false,
            default: {},
            description:
              'progressive delays against password guessing; nobody is locked out, and no address waits for another’s failures',
          },
        ),
        tls: Type.Object(
          {
            cert: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
              default: null,
              description:
                'PEM certificate file (with its chain) to serve the management listener over https; set with management.tls.key',
            }),
            key: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
              default: null,
              description: 'PEM private key file of management.tls.cert',
            }),
          },
          {
            additionalProperties: false,
            default: {},
            description:
              'https on the management listener itself; the alternative is a reverse proxy that ends TLS (see management.trustProxy)',
          },
        ),
        trustProxy: Type.Array(Type.String({ pattern: TRUSTED_PROXY_PATTERN }), {
          default: [],
          description:
            'addresses (or CIDR ranges, or loopback) of reverse proxies in front of the management listener; only from these is X-Forwarded-For (client address) and X-Forwarded-Proto/-Host believed. Empty: the socket address is the client',
        }),
        trustedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
          default: [],
          description:
            'extra browser origins allowed to change things (e.g. https://deploy.example.org behind a proxy); the page’s own origin always is',
        }),
        allowedHosts: Type.Array(Type.String({ pattern: '^[A-Za-z0-9.-]+$' }), {
          default: [],
          description:
            'host names the UI may be reached by besides IP addresses and localhost (guards against DNS rebinding)',
        }),
        diskLowMiB: Type.Integer({
          minimum: 0,
          default: 2048,
          description: 'warn the dashboard when the data directory has less free space than this',
        }),
        uiDir: Type.String({
          default: '',
          description: 'built web UI to serve; empty means the ui/dist of this installation',
        }),
        metrics: Type.Object(
          {
            token: Type.String({
              default: '',
              description:
                'bearer token a Prometheus scraper sends (Authorization: Bearer TOKEN) for GET /metrics on the management listener; empty: no token is accepted. /metrics is off (404) unless this or management.metrics.fromLocalhost is set',
            }),
            fromLocalhost: Type.Boolean({
              default: false,
              description:
                'answer GET /metrics without a token to requests from this machine (127.0.0.0/8, ::1; behind a trusted proxy, the forwarded client address counts)',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    netboot: Type.Object(
      {
        interface: Type.Union([Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,15}$' }), Type.Null()], {
          default: null,
          description:
            'the deployment-LAN interface (e.g. eth1); network boot (DHCP, TFTP) stays off until it is named',
        }),
        address: Type.Union([Ipv4(), Type.Null()], {
          default: null,
          description:
            "this server's static IPv4 address on the deployment LAN, handed to boards as their TFTP server; default: the interface's first IPv4 address",
        }),
        dhcp: Type.Object(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                'answer DHCP on the deployment interface (false: TFTP only, the site DHCP points boards here)',
            }),
            mode: Type.Enum(['full', 'proxy'], {
              default: 'full',
              description:
                'full: hand out addresses from the range; proxy: the site DHCP server gives addresses, rpi-deploy adds the boot options',
            }),
            range: Type.Object(
              {
                start: Ipv4({
                  default: '192.168.151.100',
                  description:
                    'first address handed out in full mode; the range must lie in the subnet of netboot.address',
                }),
                end: Ipv4({ default: '192.168.151.250', description: 'last address handed out in full mode' }),
              },
              { additionalProperties: false, default: {} },
            ),
            leaseSeconds: Type.Integer({
              minimum: 60,
              maximum: 31_536_000,
              default: 43_200,
              description: 'lease time in full mode (default 12 h)',
            }),
            router: Type.Union([Ipv4(), Type.Null()], {
              default: null,
              description: 'default gateway offered in full mode (option 3); none by default',
            }),
            dnsServers: Type.Array(Ipv4(), {
              default: [],
              maxItems: 8,
              description: 'DNS servers offered in full mode (option 6)',
            }),
            reservations: Type.Array(
              Type.Object(
                { mac: Mac, ip: Ipv4({ description: 'the address this MAC always gets' }) },
                { additionalProperties: false },
              ),
              {
                default: [],
                description:
                  'fixed addresses by MAC in full mode; they may lie outside the range but inside the subnet',
              },
            ),
            declineHoldSeconds: Type.Integer({
              minimum: 0,
              default: 3600,
              description: 'how long an address a client declined (already in use) is kept out of the pool',
            }),
            broadcast: Type.Enum(['subnet', 'limited'], {
              default: 'subnet',
              description:
                "where broadcast replies go: the interface's subnet broadcast, or 255.255.255.255 (what dnsmasq uses for PXE proxy replies)",
            }),
            foreignServer: Type.Object(
              {
                probeMs: Type.Integer({
                  minimum: 0,
                  maximum: 60_000,
                  default: 3000,
                  description: 'how long to listen for other DHCP servers before serving (0: no probe)',
                }),
                recheckSeconds: Type.Integer({
                  minimum: 0,
                  default: 300,
                  description: 'probe again this often while serving (0: only listen)',
                }),
                allowInFullMode: Type.Boolean({
                  default: false,
                  description:
                    'serve in full mode even though another DHCP server answers on the interface (two servers will hand out conflicting addresses)',
                }),
              },
              { additionalProperties: false, default: {} },
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        tftp: Type.Object(
          {
            enabled: Type.Boolean({
              default: true,
              description: 'serve the boot tree over TFTP on the deployment address',
            }),
            port: Type.Integer({
              minimum: 1,
              maximum: 65535,
              default: 69,
              description:
                'UDP port for TFTP requests; a Pi 5 only asks on 69 (below 1024: root or CAP_NET_BIND_SERVICE)',
            }),
            maxBlksize: Type.Integer({
              minimum: 512,
              maximum: 65464,
              default: 1468,
              description: 'largest TFTP block offered; 1468 fills a 1500-byte Ethernet frame (what a Pi 5 asks for)',
            }),
            maxWindowsize: Type.Integer({
              minimum: 1,
              maximum: 256,
              default: 64,
              description: 'largest RFC 7440 window offered (the Pi 5 itself reads lock-step)',
            }),
            retransmitMs: Type.Integer({
              minimum: 100,
              maximum: 30_000,
              default: 1000,
              description: 'resend unacknowledged data after this long (only then; never on a duplicate ACK)',
            }),
            maxRetries: Type.Integer({
              minimum: 1,
              maximum: 50,
              default: 5,
              description: 'timeouts in a row before a transfer is given up',
            }),
            transferDeadlineSeconds: Type.Integer({
              minimum: 5,
              maximum: 3600,
              default: 120,
              description: 'a transfer that takes longer is ended with an error',
            }),
            maxSessions: Type.Integer({
              minimum: 1,
              maximum: 100_000,
              default: 1000,
              description: 'concurrent transfers; more requests are told the server is busy',
            }),
            socketBufferBytes: Type.Integer({
              minimum: 65_536,
              maximum: 67_108_864,
              default: 1_048_576,
              description:
                'SO_SNDBUF/SO_RCVBUF of each TFTP socket (the kernel caps it at net.core.wmem_max/rmem_max); windows are bounded to fit',
            }),
            bootFilesDir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
              default: null,
              description:
                'a directory laid out like a Pi boot partition (kernel_2712.img, bcm2712*.dtb, overlays/) to boot boards from',
            }),
            cacheBytes: Type.Integer({
              minimum: 0,
              default: 536_870_912,
              description: 'memory for boot files kept between transfers',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        boot: Type.Object(
          {
            console: Type.String({
              pattern: '^[A-Za-z0-9_,.]+$',
              default: 'ttyAMA10,115200',
              description: "the kernel console in the generated cmdline.txt; ttyAMA10 is the Pi 5's debug UART",
            }),
            target: Type.String({
              pattern: '^/dev/[A-Za-z0-9/_-]+$',
              default: '/dev/mmcblk0',
              description: "the card the agent writes (a Pi 5's SD card is /dev/mmcblk0)",
            }),
            cmdlineExtra: Type.String({
              default: '',
              pattern: '^[^\\n]*$',
              description: 'more kernel parameters for every board (e.g. "quiet")',
            }),
            deviceApiUrl: Type.Union([Type.String({ pattern: '^https?://[^\\s]+$' }), Type.Null()], {
              default: null,
              description: 'the device API as boards reach it; default http://<netboot address>:<device.listen port>',
            }),
            tokenTtlMinutes: Type.Integer({
              minimum: 5,
              maximum: 10_080,
              default: 720,
              description: 'how long a per-boot token on a kernel command line stays valid',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    history: Type.Object(
      {
        keepDays: Type.Integer({
          minimum: 0,
          default: 0,
          description:
            'delete deployment history events older than this many days, at start and once a day while serving (each run is written to the audit log with the number of events removed); 0 keeps them forever. Deployments themselves and their current state always stay',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Enum(LOG_LEVELS, {
          default: 'info',
          description:
            'the least severe log lines written (on stderr, in log.format); debug adds every DHCP reply and each skipped or refused DHCP/TFTP packet',
        }),
        format: Type.Enum(LOG_FORMATS, {
          default: 'auto',
          description:
            'how serve writes its log to stderr: json (one object a line, for the journal), pretty (one readable line an event: time, level, component, message, fields), or auto: pretty on a terminal, json otherwise',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** The slice `createNetboot` receives. */
export type NetbootConfig = Config['netboot'];

/** A `HOST:PORT` listen address split for `listen()`; `[::1]:80` style IPv6 is accepted. */
export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(value: string): ListenAddress {
  const at = value.lastIndexOf(':');
  const rawHost = value.slice(0, at);
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { host, port: Number(value.slice(at + 1)) };
}
