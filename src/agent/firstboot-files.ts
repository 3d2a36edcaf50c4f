import type { Customisation, FirstBootSettings } from '../protocol/firstboot.js';

/**
 * The files a card needs to customise its first boot, rendered the way Raspberry Pi Imager does
 * (docs/pi5-netboot.md §6): cloud-init `user-data`/`meta-data`/`network-config` and
 * `ds=nocloud;i=<id>` on the command line for current images; `firstrun.sh` started by
 * `systemd.run=` for Bookworm. Pure: text in, text out.
 */
export interface FirstBootFiles {
  /** Files to create or replace in the root of the FAT boot partition. */
  files: { path: string; content: string }[];
  /** cmdline.txt after the edit. */
  cmdline: string;
}

const SSH_ENABLE = 'systemctl enable --now ssh';
const FIRSTRUN_PARAMS = [
  'systemd.run=/boot/firstrun.sh',
  'systemd.run_success_action=reboot',
  'systemd.unit=kernel-command-line.target',
];
/** Words this renderer adds to cmdline.txt; removed first, so customising twice leaves one copy. */
const OWN_PARAM =
  /^(ds=nocloud(;.*)?|systemd\.run=.*|systemd\.run_success_action=.*|systemd\.unit=kernel-command-line\.target|cfg80211\.ieee80211_regdom=.*)$/;

export function renderFirstBoot(c: Customisation, cmdlineTxt: string): FirstBootFiles {
  const words = cmdlineTxt
    .replace(/\r?\n[\s\S]*$/, '')
    .trim()
    .split(/\s+/)
    .filter((w) => w && !OWN_PARAM.test(w));
  if (c.settings.wifi) words.push(`cfg80211.ieee80211_regdom=${c.settings.wifi.country}`);
  if (c.format === 'cloud-init') {
    words.push(`ds=nocloud;i=${c.instanceId}`);
    const files = [
      { path: 'user-data', content: userData(c) },
      { path: 'meta-data', content: `instance-id: ${c.instanceId}\nlocal-hostname: ${c.hostname}\n` },
    ];
    if (c.settings.wifi) files.push({ path: 'network-config', content: networkConfig(c.settings) });
    return { files, cmdline: `${words.join(' ')}\n` };
  }
  words.push(...FIRSTRUN_PARAMS);
  return { files: [{ path: 'firstrun.sh', content: firstrunScript(c) }], cmdline: `${words.join(' ')}\n` };
}

/** A YAML double-quoted scalar; JSON string syntax is a subset of it. */
const y = (s: string) => JSON.stringify(s);

function userData(c: Customisation): string {
  const s = c.settings;
  const out = [
    '#cloud-config',
    `# rpi-deploy first boot for ${c.hostname}`,
    `hostname: ${y(c.hostname)}`,
    'manage_etc_hosts: true',
    'manage_resolv_conf: false',
  ];
  if (s.timezone) out.push(`timezone: ${y(s.timezone)}`);
  if (s.keyboardLayout) out.push('keyboard:', '  model: pc105', `  layout: ${y(s.keyboardLayout)}`);
  const keys = s.sshAuthorizedKeys ?? [];
  if (s.user) {
    out.push('user:', `  name: ${y(s.user.name)}`, '  shell: /bin/bash');
    if (s.user.passwordHash) out.push('  lock_passwd: false', `  passwd: ${y(s.user.passwordHash)}`);
    else out.push('  lock_passwd: true');
    out.push(`  sudo: ${s.user.sudo ? y('ALL=(ALL) NOPASSWD:ALL') : 'null'}`);
    if (keys.length > 0) out.push('  ssh_authorized_keys:', ...keys.map((k) => `    - ${y(k)}`));
  } else if (keys.length > 0) {
    out.push('ssh_authorized_keys:', ...keys.map((k) => `  - ${y(k)}`));
  }
  if (s.sshPasswordAuth !== undefined) out.push(`ssh_pwauth: ${s.sshPasswordAuth}`);
  if (keys.length > 0 || s.sshPasswordAuth) out.push('runcmd:', `  - ${y(SSH_ENABLE)}`);
  return `${out.join('\n')}\n`;
}

function networkConfig(s: FirstBootSettings): string {
  const wifi = s.wifi!;
  const ap = [`        ${y(wifi.ssid)}:`];
  if (wifi.psk) ap.push(`          password: ${y(wifi.psk)}`);
  else ap.push('          auth:', '            key-management: none');
  if (wifi.hidden) ap.push('          hidden: true');
  return `${[
    'network:',
    '  version: 2',
    '  ethernets:',
    '    eth0:',
    '      dhcp4: true',
    '      optional: true',
    '  wifis:',
    '    wlan0:',
    '      dhcp4: true',
    '      optional: true',
    `      regulatory-domain: ${y(wifi.country)}`,
    '      access-points:',
    ...ap,
  ].join('\n')}\n`;
}

/** A shell word in single quotes. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const CUSTOM = '/usr/lib/raspberrypi-sys-mods/imager_custom';

function firstrunScript(c: Customisation): string {
  const s = c.settings;
  const lines = [
    '#!/bin/bash',
    `# rpi-deploy first boot for ${c.hostname} (${c.instanceId}); deletes itself when done`,
    'set +e',
    '',
    `NEW_HOSTNAME=${q(c.hostname)}`,
    'CURRENT_HOSTNAME=$(tr -d " \\t\\n\\r" < /etc/hostname)',
    `if [ -f ${CUSTOM} ]; then`,
    `  ${CUSTOM} set_hostname "$NEW_HOSTNAME"`,
    'else',
    '  echo "$NEW_HOSTNAME" > /etc/hostname',
    '  sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t$NEW_HOSTNAME/g" /etc/hosts',
    'fi',
    'FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)',
    'FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)',
  ];
  const keys = s.sshAuthorizedKeys ?? [];
  if (keys.length > 0 || s.sshPasswordAuth) {
    lines.push(
      `if [ -f ${CUSTOM} ]; then`,
      keys.length > 0 ? `  ${CUSTOM} enable_ssh -k ${keys.map(q).join(' ')}` : `  ${CUSTOM} enable_ssh`,
      'else',
      ...(keys.length > 0
        ? [
            '  install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"',
            `  printf '%s\\n' ${keys.map(q).join(' ')} > "$FIRSTUSERHOME/.ssh/authorized_keys"`,
            '  chown "$FIRSTUSER:$FIRSTUSER" "$FIRSTUSERHOME/.ssh/authorized_keys"',
            '  chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"',
          ]
        : []),
      s.sshPasswordAuth ? '  true' : "  echo 'PasswordAuthentication no' >> /etc/ssh/sshd_config",
      '  systemctl enable ssh',
      'fi',
    );
  }
  if (s.user) {
    const { name, passwordHash, sudo } = s.user;
    lines.push(
      'if [ -f /usr/lib/userconf-pi/userconf ]; then',
      `  /usr/lib/userconf-pi/userconf ${q(name)}${passwordHash ? ` ${q(passwordHash)}` : ''}`,
      'else',
      ...(passwordHash ? [`  echo "$FIRSTUSER:"${q(passwordHash)} | chpasswd -e`] : []),
      `  if [ "$FIRSTUSER" != ${q(name)} ]; then usermod -l ${q(name)} "$FIRSTUSER"; usermod -m -d ${q(`/home/${name}`)} ${q(name)}; groupmod -n ${q(name)} "$FIRSTUSER"; fi`,
      'fi',
    );
    if (sudo)
      lines.push(
        `echo ${q(`${name} ALL=(ALL) NOPASSWD: ALL`)} > ${q(`/etc/sudoers.d/010_${name}-nopasswd`)}`,
        `chmod 440 ${q(`/etc/sudoers.d/010_${name}-nopasswd`)}`,
      );
  }
  if (s.wifi) {
    const { ssid, psk, country, hidden } = s.wifi;
    lines.push(
      `if [ -f ${CUSTOM} ]; then`,
      `  ${CUSTOM} set_wlan${hidden ? ' -h' : ''} ${q(ssid)} ${q(psk ?? '')} ${q(country)}`,
      'fi',
    );
  }
  if (s.keyboardLayout) lines.push(`if [ -f ${CUSTOM} ]; then ${CUSTOM} set_keymap ${q(s.keyboardLayout)}; fi`);
  if (s.timezone) {
    lines.push(
      `if [ -f ${CUSTOM} ]; then`,
      `  ${CUSTOM} set_timezone ${q(s.timezone)}`,
      'else',
      `  rm -f /etc/localtime; echo ${q(s.timezone)} > /etc/timezone; dpkg-reconfigure -f noninteractive tzdata`,
      'fi',
    );
  }
  lines.push('rm -f /boot/firstrun.sh', "sed -i 's| systemd.run.*||g' /boot/cmdline.txt", 'exit 0');
  return `${lines.join('\n')}\n`;
}
