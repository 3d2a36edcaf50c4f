/**
 * A MAC address written with `:` or `-` separators in either case, as lower-case hex pairs joined
 * by `:` (the form the fleet stores and DHCP compares); null when `input` is not six hex pairs.
 */
export function normaliseMac(input: string): string | null {
  const raw = input.trim().toLowerCase();
  return /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/.test(raw) ? raw.replace(/-/g, ':') : null;
}
