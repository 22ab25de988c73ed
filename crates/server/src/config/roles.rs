//! `roles`: what a node does. Several nodes on one PostgreSQL can split the work, e.g.
//! receive-only nodes behind the platform's load balancer and deliver-only nodes elsewhere.

use super::{invalid, ConfigError};

/// What a node does: at least one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// Serve the callback path.
    pub receive: bool,
    /// Run the delivery engine.
    pub deliver: bool,
}

impl Roles {
    /// From the `roles` list; an unknown or empty list is refused, naming the key.
    pub(super) fn parse(names: &[String]) -> Result<Roles, ConfigError> {
        let mut roles = Roles {
            receive: false,
            deliver: false,
        };
        for name in names {
            match name.as_str() {
                "receive" => roles.receive = true,
                "deliver" => roles.deliver = true,
                other => {
                    return Err(invalid(
                        "roles",
                        format!("{other:?} is not a role; use \"receive\" and/or \"deliver\""),
                    ))
                }
            }
        }
        if !(roles.receive || roles.deliver) {
            return Err(invalid(
                "roles",
                "is empty; a node needs receive, deliver or both",
            ));
        }
        Ok(roles)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn roles_pick_what_a_node_does() {
        let c = Config::from_toml("roles = [\"deliver\"]", "t").unwrap();
        assert_eq!((c.roles.receive, c.roles.deliver), (false, true));
        let both = Config::default().roles;
        assert_eq!((both.receive, both.deliver), (true, true));
    }
}
