// Hash routes: the app is static files behind CloudFront, so every address is `/` plus a hash
// and no rewrite rule is needed at the edge. The sign-in callback comes back to `/?code=…`.

export type Route =
  | { name: "companies" }
  | { name: "locations"; companyId: string }
  | { name: "location"; companyId: string; locationId: string }
  | { name: "administrators"; companyId: string }
  | { name: "audit"; companyId: string }
  | { name: "not_found" };

const ID = "([0-9a-f-]{36})";

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/") return { name: "companies" };
  let m = new RegExp(`^/firma/${ID}$`).exec(path);
  if (m?.[1]) return { name: "locations", companyId: m[1] };
  m = new RegExp(`^/firma/${ID}/administratorer$`).exec(path);
  if (m?.[1]) return { name: "administrators", companyId: m[1] };
  m = new RegExp(`^/firma/${ID}/endringslogg$`).exec(path);
  if (m?.[1]) return { name: "audit", companyId: m[1] };
  m = new RegExp(`^/firma/${ID}/lokasjon/${ID}$`).exec(path);
  if (m?.[1] && m[2]) return { name: "location", companyId: m[1], locationId: m[2] };
  return { name: "not_found" };
}

export const href = {
  companies: () => "#/",
  locations: (companyId: string) => `#/firma/${companyId}`,
  location: (companyId: string, locationId: string) => `#/firma/${companyId}/lokasjon/${locationId}`,
  administrators: (companyId: string) => `#/firma/${companyId}/administratorer`,
  audit: (companyId: string) => `#/firma/${companyId}/endringslogg`,
};
