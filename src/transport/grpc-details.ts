// grpc-js status details, cleaned for our messages. A failed dial reads "No connection established.
// Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: " (the note often empty):
// keep the cause, drop the library's framing and the dangling note.

/** The cause inside grpc-js details, e.g. "connect ECONNREFUSED 127.0.0.1:1"; other text as is, trimmed. */
export function cleanGrpcDetails(details: string): string {
  let text = details.replace(/\s*Resolution note:\s*$/, '').trim();
  const last = /Last error:\s*(?:Error:\s*)?(.*)$/s.exec(text);
  if (last?.[1] !== undefined && last[1].trim() !== '') text = last[1].trim();
  text = text.replace(/\.$/, '');
  return text === '' ? 'transport error' : text;
}
