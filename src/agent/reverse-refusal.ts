// Agent-side reading of a registration refusal (spec §9.4): which texts mean "this registration can
// never succeed" (steps 4–8: version, empty id, allow-list, missing or wrong token) and which are
// worth retrying after the back-off (timeout, a garbled frame, the per-agent connection limit).
// Matches the proxy-side texts of validateRegistration in protocol/registration.ts.
const PERMANENT: readonly RegExp[] = [
  /^Protocol version mismatch: /,
  /^Invalid message format: Agent ID cannot be empty$/,
  /^Invalid message format: Agent ID '.*' must be at most \d+ characters of /s,
  /^Invalid message format: Agent '.*' is not in the allowed list$/s,
  /^Invalid message format: Authentication required but no token provided$/,
  /^Invalid message format: Authentication failed$/,
];

export function isPermanentRefusal(error: string | null): boolean {
  if (error === null) return false;
  return PERMANENT.some((re) => re.test(error));
}
