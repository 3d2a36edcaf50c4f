import { createSocket, type Socket } from 'node:dgram';
import { NetbootError } from '../errors.js';
import { nativeAddon } from '../../lib/native-addon.js';

/**
 * The only place that opens a DHCP socket (docs/style.md R15): always bound to one interface with
 * SO_BINDTODEVICE, never to "all interfaces". A DHCP server that is not bound to its interface is a
 * rogue DHCP server on every other network the host is attached to.
 *
 * Node's dgram cannot bind to a device, so the native addon in native/dhcp-socket (built by
 * `npm ci`) creates the socket, binds it to the device and then to the port, and dgram adopts the
 * descriptor. Binding before the port means no packet from another interface is ever queued.
 */

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

interface NativeDhcpSocket {
  openDeviceSocket(ifname: string, port: number, shared: boolean): number;
}

const native = nativeAddon<NativeDhcpSocket>(
  'dhcp-socket',
  (message, cause) =>
    new NetbootError(
      'DHCP_NATIVE_MISSING',
      `The interface-binding helper for DHCP is not built (${message})`,
      {},
      { cause },
    ),
);

export interface DeviceSocketOptions {
  /** The interface the socket is bound to; it sees and sends nothing anywhere else. */
  interface: string;
  port: number;
  /**
   * Share the port with other programs (SO_REUSEADDR): right for the client port, which a DHCP
   * client on the same host may hold. The server port is exclusive, so a second DHCP server on
   * the interface is an error instead of two servers answering.
   */
  shared: boolean;
  recvBufferBytes?: number;
}

/** Opens a UDP socket bound to `interface` and `port`, with broadcast allowed. Needs CAP_NET_BIND_SERVICE for a port below 1024 (or root). */
export async function openDeviceSocket(o: DeviceSocketOptions): Promise<Socket> {
  let fd: number;
  try {
    fd = native().openDeviceSocket(o.interface, o.port, o.shared);
  } catch (cause) {
    if (cause instanceof NetbootError) throw cause;
    throw socketError(o, cause as NodeJS.ErrnoException);
  }
  const socket = createSocket({ type: 'udp4', ...(o.recvBufferBytes && { recvBufferSize: o.recvBufferBytes }) });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ fd }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setBroadcast(true);
  return socket;
}

function socketError(o: DeviceSocketOptions, cause: NodeJS.ErrnoException): NetbootError {
  const where = `UDP port ${o.port} on ${o.interface}`;
  const details = { interface: o.interface, port: o.port, errno: cause.code };
  switch (cause.code) {
    case 'EACCES':
    case 'EPERM': {
      // Binding a port below 1024 needs CAP_NET_BIND_SERVICE; SO_BINDTODEVICE needed CAP_NET_RAW before Linux 5.7.
      const capability = cause.message.startsWith('SO_BINDTODEVICE') ? 'CAP_NET_RAW' : 'CAP_NET_BIND_SERVICE';
      return new NetbootError(
        'DHCP_PERMISSION_DENIED',
        `Cannot open ${where}: the capability ${capability} is missing; run rpi-deploy as the service "rpi-deploy service install" sets up (or as root), or leave netboot.interface unset to run without network boot`,
        { ...details, capability },
        { cause },
      );
    }
    case 'EADDRINUSE':
      return new NetbootError(
        'DHCP_PORT_IN_USE',
        `Cannot open ${where}: another program already serves DHCP there (dnsmasq, isc-dhcp-server or a second rpi-deploy?); stop it or restrict it to other interfaces (dnsmasq: except-interface=${o.interface})`,
        details,
        { cause },
      );
    case 'ENODEV':
      return new NetbootError(
        'NETBOOT_INTERFACE_UNKNOWN',
        `Network interface ${o.interface} does not exist; check netboot.interface ("ip -brief link" lists them)`,
        details,
        { cause },
      );
    default:
      return new NetbootError('DHCP_SOCKET_FAILED', `Cannot open ${where}: ${cause.message}`, details, { cause });
  }
}
