import Type, { type Static } from 'typebox';

/**
 * First-boot customisation: what a freshly written card sets up on its first boot, the way
 * Raspberry Pi Imager does it (docs/pi5-netboot.md §6). Operators define settings per product
 * (user, SSH keys) and per venue (Wi-Fi, timezone); a venue's value wins over its product's.
 * The hostname is never a setting: the fleet assigns it per board.
 *
 * Secrets are stored in the form the card needs and nothing more readable: the password as a
 * crypt(3) hash, the Wi-Fi passphrase as its 64-hex-digit WPA PSK.
 */

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** crypt(3) hashes that Raspberry Pi OS accepts: yescrypt, sha512-crypt, sha256-crypt. */
export const PASSWORD_HASH_PATTERN = '^\\$(y|6|5)\\$[./A-Za-z0-9$=]{8,200}$';
export const LINUX_USER_PATTERN = '^[a-z_][a-z0-9_-]{0,31}$';
/** One OpenSSH public key line: type, base64 blob, optional comment. No newlines. */
export const SSH_KEY_PATTERN =
  '^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/=]{16,16384}( [^\\n\\r]{0,200})?$';
export const TIMEZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$';
export const WPA_PSK_PATTERN = '^[0-9a-f]{64}$';

export const FirstBootUser = Type.Object(
  {
    name: Type.String({ pattern: LINUX_USER_PATTERN, description: 'login name, e.g. "pi"' }),
    passwordHash: Type.Optional(
      Nullable(
        Type.String({
          pattern: PASSWORD_HASH_PATTERN,
          description: 'crypt(3) hash: mkpasswd -m yescrypt, or openssl passwd -6',
        }),
      ),
    ),
    sudo: Type.Optional(Type.Boolean({ description: 'passwordless sudo (Imager does the same)' })),
  },
  { additionalProperties: false },
);
export type FirstBootUser = Static<typeof FirstBootUser>;

const WifiBase = {
  ssid: Type.String({ minLength: 1, maxLength: 32 }),
  country: Type.String({ pattern: '^[A-Z]{2}$', description: 'regulatory domain, e.g. "US"' }),
  hidden: Type.Optional(Type.Boolean()),
};

/** Wi-Fi as stored and sent to boards: the PSK, never the passphrase; no PSK = an open network. */
export const FirstBootWifi = Type.Object(
  { ...WifiBase, psk: Type.Optional(Nullable(Type.String({ pattern: WPA_PSK_PATTERN }))) },
  { additionalProperties: false },
);
export type FirstBootWifi = Static<typeof FirstBootWifi>;

/** Wi-Fi as an operator types it; the passphrase is turned into the PSK before it is stored. */
export const FirstBootWifiInput = Type.Object(
  {
    ...WifiBase,
    passphrase: Type.Optional(
      Nullable(Type.String({ minLength: 8, maxLength: 63, description: 'WPA2 passphrase, 8–63 characters' })),
    ),
  },
  { additionalProperties: false },
);
export type FirstBootWifiInput = Static<typeof FirstBootWifiInput>;

const settingsFields = {
  user: Type.Optional(Nullable(FirstBootUser)),
  sshAuthorizedKeys: Type.Optional(Type.Array(Type.String({ pattern: SSH_KEY_PATTERN }), { maxItems: 64 })),
  sshPasswordAuth: Type.Optional(Type.Boolean()),
  timezone: Type.Optional(
    Nullable(Type.String({ pattern: TIMEZONE_PATTERN, maxLength: 64, description: 'e.g. "America/Los_Angeles"' })),
  ),
  keyboardLayout: Type.Optional(
    Nullable(Type.String({ pattern: '^[a-z]{2,8}$', description: 'XKB layout, e.g. "us"' })),
  ),
};

/** The settings of one product or one venue, as stored. */
export const FirstBootSettings = Type.Object(
  { ...settingsFields, wifi: Type.Optional(Nullable(FirstBootWifi)) },
  { additionalProperties: false },
);
export type FirstBootSettings = Static<typeof FirstBootSettings>;

/** The settings of one product or one venue, as an operator enters them. */
export const FirstBootSettingsInput = Type.Object(
  { ...settingsFields, wifi: Type.Optional(Nullable(FirstBootWifiInput)) },
  { additionalProperties: false },
);
export type FirstBootSettingsInput = Static<typeof FirstBootSettingsInput>;

export const FIRSTBOOT_SCOPES = ['product', 'venue'] as const;
export const FirstBootScope = Type.Enum(FIRSTBOOT_SCOPES);
export type FirstBootScope = (typeof FIRSTBOOT_SCOPES)[number];

/**
 * How an image is customised, from its boot partition: cloud-init files (current Raspberry Pi
 * OS, `ds=nocloud` on the command line) or firstrun.sh run by systemd (Bookworm).
 */
export const CustomisationFormat = Type.Enum(['cloud-init', 'firstrun'] as const);
export type CustomisationFormat = Static<typeof CustomisationFormat>;

/** Everything a board needs to customise its first boot; the agent renders the files from it. */
export const Customisation = Type.Object({
  format: CustomisationFormat,
  hostname: Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$' }),
  /** cloud-init instance id: a new one per deployment makes cloud-init run again on a re-imaged board. */
  instanceId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,80}$' }),
  settings: FirstBootSettings,
});
export type Customisation = Static<typeof Customisation>;
