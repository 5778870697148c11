// The query string as RFC 3986 reads it: `+` is a plus, not a space. A ZooKeeper digest id is base64 (about one in
// three has a `+`), and `?acl=digest:bob:<hash>:cdrwa` typed as API.md shows it must keep it; the form encoding that
// turns `+` into a space is for HTML forms, and zkgate's own clients send a space as %20. A key repeated gives an
// array; a bare key (`?children`) is ''; a malformed %-escape is kept as written, for the route's schema to refuse.

export function parseQueryString(s: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (s === '') return out;
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const had = out[key];
    if (had === undefined) out[key] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[key] = [had, value];
  }
  return out;
}

function decode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
