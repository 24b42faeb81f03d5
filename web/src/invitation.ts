const INVITATION_KEY = "bookinglink.invitation";

/**
 * An invitation link (`?invitation=<id>&token=<token>`) is kept in this tab's sessionStorage
 * through the sign-in and taken out of the address bar at once, so the token is never sent
 * onwards in a Referer or left in the history.
 */
export function keepInvitation(): void {
  const params = new URLSearchParams(window.location.search);
  const id = params.get("invitation");
  const token = params.get("token");
  if (id && token) {
    sessionStorage.setItem(INVITATION_KEY, JSON.stringify({ id, token }));
    window.history.replaceState(null, "", `/${window.location.hash}`);
  }
}

/** The invitation followed before signing in, once: it is forgotten as it is taken. */
export function takeInvitation(): { id: string; token: string } | null {
  const raw = sessionStorage.getItem(INVITATION_KEY);
  if (!raw) return null;
  sessionStorage.removeItem(INVITATION_KEY);
  return JSON.parse(raw) as { id: string; token: string };
}
