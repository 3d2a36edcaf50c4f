import { AppError } from '../lib/errors.js';

export type NetbootErrorCode =
  | 'NETBOOT_INTERFACE_UNKNOWN'
  | 'NETBOOT_INTERFACE_NO_ADDRESS'
  | 'NETBOOT_ADDRESS_NOT_ON_INTERFACE'
  | 'DHCP_PERMISSION_DENIED'
  | 'DHCP_PORT_IN_USE'
  | 'DHCP_SOCKET_FAILED'
  | 'DHCP_NATIVE_MISSING'
  | 'DHCP_RANGE_OUTSIDE_SUBNET'
  | 'DHCP_FOREIGN_SERVER';

/** Network boot cannot start or run as configured; the message says what to change. */
export class NetbootError extends AppError<NetbootErrorCode> {}
