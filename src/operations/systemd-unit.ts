/**
 * The systemd unit of `rpi-deploy serve`, as text. Pure: the installer decides the paths.
 */

/**
 * The capabilities `serve` needs as an unprivileged user: binding UDP ports 67 (DHCP), 68 (the
 * foreign-server probe) and 69 (TFTP), all below 1024. Binding a socket to the deployment
 * interface (SO_BINDTODEVICE) needs no capability on an unbound socket since Linux 5.7, and
 * replies go to the subnet broadcast, so no raw socket (CAP_NET_RAW) and no interface
 * configuration (CAP_NET_ADMIN). test/netns/service-capabilities.test.ts proves the set by
 * serving the Pi 5 dialogue with exactly it, and failing without it.
 */
export const SERVICE_CAPABILITIES: readonly string[] = ['CAP_NET_BIND_SERVICE'];

export interface ServiceUnitOptions {
  /** The command line of the service, absolute paths first. */
  execStart: readonly string[];
  user: string;
  /** The one directory the service may write. */
  dataDir: string;
  capabilities?: readonly string[];
}

/** systemd quotes an argument with spaces or quotes in double quotes, backslash-escaped. */
function quoteArg(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/["\\]/g, '\\$&').replace(/%/g, '%%')}"`;
}

export function renderServiceUnit(o: ServiceUnitOptions): string {
  const caps = (o.capabilities ?? SERVICE_CAPABILITIES).join(' ');
  return `# Written by "rpi-deploy service install"; "rpi-deploy service uninstall" removes it.
[Unit]
Description=rpi-deploy: images Raspberry Pi 5 boards over the network
# The deployment interface must have its static address before DHCP and TFTP bind it.
Wants=network-online.target
After=network-online.target

[Service]
# "serve" runs systemd-notify --ready once its listeners are bound; the helper is a child, hence NotifyAccess=all.
Type=notify
NotifyAccess=all
ExecStart=${o.execStart.map(quoteArg).join(' ')}
Restart=on-failure
RestartSec=5s
TimeoutStartSec=120s
User=${o.user}
Group=${o.user}
UMask=0077
AmbientCapabilities=${caps}
CapabilityBoundingSet=${caps}
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${quoteArg(o.dataDir)}
PrivateTmp=yes
ProtectHome=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
PrivateMounts=yes
ProtectProc=invisible
# UDP/TCP sockets, the journal and systemd-notify (AF_UNIX), interface addresses (AF_NETLINK).
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
# Not @resources: Node raises its open-files limit at start (setrlimit).
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM
# JSON log lines on stdout and stderr go to the journal: journalctl -u rpi-deploy
StandardOutput=journal
StandardError=journal
SyslogIdentifier=rpi-deploy

[Install]
WantedBy=multi-user.target
`;
}
