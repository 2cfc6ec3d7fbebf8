// The token: taken from the URL (?token=…, as the server prints it) into session storage
// and removed from the address bar at once, so it is neither bookmarked nor shared by a
// copied URL, and survives a reload of the tab.

export interface TokenPlace {
  href: string; // location.href
  storage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  replaceUrl(url: string): void; // history.replaceState
}

export const TOKEN_KEY = "voxcast.token";

export function takeToken(p: TokenPlace): string {
  const url = new URL(p.href);
  const given = url.searchParams.get("token");
  if (given !== null) {
    p.storage.setItem(TOKEN_KEY, given);
    url.searchParams.delete("token");
    p.replaceUrl(url.pathname + (url.search === "?" ? "" : url.search) + url.hash);
    return given;
  }
  return p.storage.getItem(TOKEN_KEY) ?? "";
}

export function forgetToken(p: TokenPlace): void {
  p.storage.removeItem(TOKEN_KEY);
}

// What the page says when the server refused the session.
export function rejectMessage(code: string, message: string, hadToken: boolean): string {
  if (code === "unauthorized")
    return hadToken
      ? "The server did not accept this token. Open the URL the server printed at start (http://…/?token=…) again."
      : "This server needs a token. Open the URL the server printed at start (it ends in ?token=…).";
  return `The server refused the session: ${message} (${code}).`;
}
