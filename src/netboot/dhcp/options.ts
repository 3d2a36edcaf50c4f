/**
 * DHCP option codes (RFC 2132 and the PXE/RFC 4578 client options) and typed access to their
 * values. Values are kept as raw bytes in the message; these helpers read and write them.
 */
export const OPTION = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOSTNAME: 12,
  BROADCAST_ADDRESS: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  END: 255,
} as const;

/** Option 53 values (RFC 2132 §9.6). */
export const MESSAGE_TYPE = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageType = (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE];

const MESSAGE_TYPE_NAMES = Object.fromEntries(Object.entries(MESSAGE_TYPE).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** `DISCOVER` for 1, `type 42` for a value RFC 2132 does not define. */
export function messageTypeName(type: number | undefined): string {
  return type === undefined ? 'none' : (MESSAGE_TYPE_NAMES[type] ?? `type ${type}`);
}

export type Options = Map<number, Buffer>;

export function getMessageType(options: Options): number | undefined {
  const v = options.get(OPTION.MESSAGE_TYPE);
  return v?.length === 1 ? v[0] : undefined;
}

/** An option holding one IPv4 address (50, 54, …); undefined when absent or not 4 bytes long. */
export function getIp(options: Options, code: number): string | undefined {
  const v = options.get(code);
  return v?.length === 4 ? ipFromBytes(v, 0) : undefined;
}

/** An option holding text (60, 66, 12, …), read byte for byte. */
export function getText(options: Options, code: number): string | undefined {
  return options.get(code)?.toString('latin1');
}

export function ipFromBytes(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

export function ipBytes(...ips: string[]): Buffer {
  return Buffer.from(ips.flatMap((ip) => ip.split('.').map(Number)));
}

export function u32Bytes(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

export function textBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
