/**
 * The URIs a webview may ask its host to open: exactly those the host sent it.
 *
 * A webview shows text the extension does not control (model output, corpus
 * samples, results files), so every request it makes is treated as possibly
 * forged. Each panel keeps one `OfferedUris`, registers every URI it puts into
 * what it posts to the webview, and passes every URI that comes back through
 * `check`, which answers with the URI as the host offered it, never with the
 * webview's spelling of it. Pure: no vscode, no DOM.
 */
import * as path from 'node:path';

// RFC 3986, appendix B, with the scheme required: scheme, authority, path, query, fragment.
const URI_PARTS = /^([a-zA-Z][a-zA-Z0-9+.-]*):(\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$/;

/**
 * The form two spellings of one URI share: scheme lower-cased, the path
 * percent-decoded with `.`, `..` and doubled slashes resolved; authority,
 * query and fragment kept as written, case kept. Null when `uri` is not an
 * absolute URI (or its path does not decode).
 */
export function uriKey(uri: string): string | null {
  const m = URI_PARTS.exec(uri);
  if (!m) return null;
  const [, scheme, authority = '', rawPath, query = '', fragment = ''] = m;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  const normalised = decoded === '' ? '' : path.posix.normalize(decoded);
  return `${scheme.toLowerCase()}:${authority}${normalised}${query}${fragment}`;
}

export class OfferedUris {
  /** Key → the URI exactly as the host offered it. */
  private readonly offered = new Map<string, string>();

  /** Lets the webview ask for `uri` from now on; returns it, to offer while building a message. */
  offer(uri: string): string {
    const key = uriKey(uri);
    if (key !== null && !this.offered.has(key)) this.offered.set(key, uri);
    return uri;
  }

  offerAll(uris: Iterable<string>): void {
    for (const uri of uris) this.offer(uri);
  }

  /** The offered URI that `uri` names; throws (the request's error reply) for anything else. */
  check(uri: unknown): string {
    const key = typeof uri === 'string' ? uriKey(uri) : null;
    const offered = key === null ? undefined : this.offered.get(key);
    if (offered === undefined) {
      const shown = typeof uri === 'string' ? JSON.stringify(uri.length > 200 ? `${uri.slice(0, 199)}…` : uri) : typeof uri;
      throw new Error(`Refused: ${shown} is not a file this view offered.`);
    }
    return offered;
  }
}
