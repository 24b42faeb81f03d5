//! The API's routes: one table that says which function serves which method and path. The
//! functions route with it, unknown paths and methods get their 404/405 from it, and tests hold
//! the SAM template and the local router to it.

use crate::problem::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteId {
    ListCompanies,
    CreateCompany,
    ListLocations,
    CreateLocation,
    GetLocation,
    UpdateLocation,
    ListBookingSystems,
    GetDetailsRequest,
    SendDetailsRequest,
    TestConnection,
    SaveBooking,
    Me,
    CreateInvitation,
    RevokeInvitation,
    AcceptInvitation,
    ListAdministrators,
    RemoveAdministrator,
    LiftLockout,
    ListAudit,
}

#[derive(Debug)]
pub struct Route {
    pub id: RouteId,
    pub method: &'static str,
    /// Path template in API Gateway's syntax: `{name}` stands for one segment.
    pub path: &'static str,
    /// The Lambda function (workspace binary) that serves it.
    pub function: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route {
        id: RouteId::ListCompanies,
        method: "GET",
        path: "/v1/companies",
        function: "locations",
    },
    Route {
        id: RouteId::CreateCompany,
        method: "POST",
        path: "/v1/companies",
        function: "locations",
    },
    Route {
        id: RouteId::ListLocations,
        method: "GET",
        path: "/v1/companies/{companyId}/locations",
        function: "locations",
    },
    Route {
        id: RouteId::CreateLocation,
        method: "POST",
        path: "/v1/companies/{companyId}/locations",
        function: "locations",
    },
    Route {
        id: RouteId::GetLocation,
        method: "GET",
        path: "/v1/companies/{companyId}/locations/{locationId}",
        function: "locations",
    },
    Route {
        id: RouteId::UpdateLocation,
        method: "PATCH",
        path: "/v1/companies/{companyId}/locations/{locationId}",
        function: "locations",
    },
    Route {
        id: RouteId::ListBookingSystems,
        method: "GET",
        path: "/v1/booking-systems",
        function: "locations",
    },
    Route {
        id: RouteId::GetDetailsRequest,
        method: "GET",
        path: "/v1/companies/{companyId}/locations/{locationId}/booking/request-details",
        function: "request-details",
    },
    Route {
        id: RouteId::SendDetailsRequest,
        method: "POST",
        path: "/v1/companies/{companyId}/locations/{locationId}/booking/request-details",
        function: "request-details",
    },
    Route {
        id: RouteId::TestConnection,
        method: "POST",
        path: "/v1/companies/{companyId}/locations/{locationId}/booking/test",
        function: "test-connection",
    },
    Route {
        id: RouteId::SaveBooking,
        method: "POST",
        path: "/v1/companies/{companyId}/locations/{locationId}/booking/save",
        function: "test-and-save",
    },
    Route {
        id: RouteId::Me,
        method: "GET",
        path: "/v1/me",
        function: "admins",
    },
    Route {
        id: RouteId::CreateInvitation,
        method: "POST",
        path: "/v1/companies/{companyId}/invitations",
        function: "admins",
    },
    Route {
        id: RouteId::RevokeInvitation,
        method: "DELETE",
        path: "/v1/companies/{companyId}/invitations/{invitationId}",
        function: "admins",
    },
    Route {
        id: RouteId::AcceptInvitation,
        method: "POST",
        path: "/v1/invitations/{invitationId}/accept",
        function: "admins",
    },
    Route {
        id: RouteId::ListAdministrators,
        method: "GET",
        path: "/v1/companies/{companyId}/administrators",
        function: "admins",
    },
    Route {
        id: RouteId::RemoveAdministrator,
        method: "DELETE",
        path: "/v1/companies/{companyId}/administrators/{userId}",
        function: "admins",
    },
    Route {
        id: RouteId::LiftLockout,
        method: "DELETE",
        path: "/v1/administrators/{userId}/lockout",
        function: "admins",
    },
    Route {
        id: RouteId::ListAudit,
        method: "GET",
        path: "/v1/companies/{companyId}/audit",
        function: "admins",
    },
];

/// Path parameters that name a user (an identity provider's `sub`) rather than one of our ids.
const USER_PARAMETERS: &[&str] = &["userId"];

#[derive(Debug)]
pub struct Matched {
    pub route: &'static Route,
    params: Vec<(&'static str, String)>,
}

impl Matched {
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// Finds the route for a request: 404 for a path no route has, 405 (with `Allow`) for a known
/// path with another method. Ids in paths must be UUIDs; anything else cannot exist, so it is
/// a 404 before any storage is touched.
pub fn resolve(method: &str, path: &str) -> Result<Matched, Problem> {
    let mut allowed: Vec<&str> = Vec::new();
    for route in ROUTES {
        let Some(params) = match_path(route.path, path) else {
            continue;
        };
        if route.method == method {
            let mut params = params;
            for (name, value) in params.iter_mut() {
                if USER_PARAMETERS.contains(name) {
                    *value = user_id(value).ok_or_else(Problem::not_found)?;
                } else if !is_uuid(value) {
                    return Err(Problem::not_found());
                }
            }
            return Ok(Matched { route, params });
        }
        allowed.push(route.method);
    }
    if allowed.is_empty() {
        Err(Problem::route_not_found())
    } else {
        Err(Problem::method_not_allowed(&allowed))
    }
}

fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut template_segments = template.split('/');
    let mut path_segments = path.split('/');
    let mut params = Vec::new();
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return Some(params),
            (Some(t), Some(p)) => {
                if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    if p.is_empty() {
                        return None;
                    }
                    params.push((name, p.to_string()));
                } else if t != p {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// A user id from a path segment: percent-decoded, and only what an identity provider issues
/// as a subject (no key separators, no control characters). Anything else cannot exist.
fn user_id(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let id = String::from_utf8(decoded).ok()?;
    (crate::identity::plausible_sub(&id) && !id.contains('/')).then_some(id)
}

/// Canonical lower-case hyphenated UUID, the only form this API hands out.
pub fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPANY: &str = "c0000000-0000-4000-8000-000000000001";

    #[test]
    fn resolves_paths_and_parameters() {
        let m = resolve("GET", &format!("/v1/companies/{COMPANY}/locations")).unwrap();
        assert_eq!(m.route.id, RouteId::ListLocations);
        assert_eq!(m.param("companyId"), COMPANY);
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        assert_eq!(
            resolve("GET", "/v1/nope").unwrap_err().code,
            "route_not_found"
        );
        assert_eq!(
            resolve("GET", "/v1/companies/").unwrap_err().code,
            "route_not_found"
        );
        let p = resolve("DELETE", "/v1/companies").unwrap_err();
        assert_eq!(p.status, 405);
        assert_eq!(p.headers[0].1, "GET, POST");
    }

    #[test]
    fn ids_that_are_not_uuids_cannot_exist() {
        let p = resolve("GET", "/v1/companies/COMPANY%23x/locations").unwrap_err();
        assert_eq!(p.code, "not_found");
        assert!(!is_uuid("C0000000-0000-4000-8000-000000000001"));
    }

    #[test]
    fn user_ids_are_subjects_not_uuids() {
        let m = resolve("DELETE", "/v1/administrators/demo-admin/lockout").unwrap();
        assert_eq!(m.param("userId"), "demo-admin");
        let m = resolve("DELETE", "/v1/administrators/auth0%7Cabc/lockout").unwrap();
        assert_eq!(m.param("userId"), "auth0|abc");
        for bad in ["USER%23x", "a%2Fb", "%0a", "%zz", "%"] {
            let path = format!("/v1/administrators/{bad}/lockout");
            assert_eq!(
                resolve("DELETE", &path).unwrap_err().code,
                "not_found",
                "{bad}"
            );
        }
        let path = format!("/v1/companies/{COMPANY}/administrators/demo-admin");
        let m = resolve("DELETE", &path).unwrap();
        assert_eq!(
            (m.param("companyId"), m.param("userId")),
            (COMPANY, "demo-admin")
        );
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }
}
