//! The client side of `authorization: Bearer ttp_…` (see `school_staff.proto`): an
//! interceptor that sends a session token on every call, and the client types that carry it.
//! The token is never printed (`Debug` shows whether there is one).

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::pb::school_agent_client::SchoolAgentClient;
use crate::pb::school_staff_client::SchoolStaffClient;

/// The metadata key of the credential.
pub const AUTHORIZATION: &str = "authorization";

/// Sends `authorization: Bearer <token>` on every call; nothing when it has no token.
#[derive(Clone, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

/// A token that cannot be sent as metadata (a control character in it).
#[derive(Debug, thiserror::Error)]
#[error("a session token cannot contain control characters")]
pub struct InvalidToken;

impl Bearer {
    /// An interceptor sending `token`.
    pub fn new(token: &str) -> Result<Self, InvalidToken> {
        let mut value: MetadataValue<Ascii> = format!("Bearer {}", token.trim())
            .parse()
            .map_err(|_| InvalidToken)?;
        value.set_sensitive(true);
        Ok(Self(Some(value)))
    }

    /// An interceptor sending nothing: for `SignIn`, or to see a refusal.
    pub fn none() -> Self {
        Self(None)
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Bearer(<token>)"
        } else {
            "Bearer(none)"
        })
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert(AUTHORIZATION, value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry a session token.
pub type AuthChannel = InterceptedService<Channel, Bearer>;
/// A `SchoolAgent` client signed in as one staff account.
pub type AgentClient = SchoolAgentClient<AuthChannel>;
/// A `SchoolStaff` client (signed in, or not for `SignIn`).
pub type StaffClient = SchoolStaffClient<AuthChannel>;

/// A `SchoolAgent` client on `channel` sending `bearer`.
pub fn agent_client(channel: Channel, bearer: Bearer) -> AgentClient {
    SchoolAgentClient::with_interceptor(channel, bearer)
}

/// A `SchoolStaff` client on `channel` sending `bearer`.
pub fn staff_client(channel: Channel, bearer: Bearer) -> StaffClient {
    SchoolStaffClient::with_interceptor(channel, bearer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_authorization_metadata_and_nowhere_else() {
        let mut bearer = Bearer::new("ttp_abc").unwrap();
        let request = bearer.call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get(AUTHORIZATION).unwrap(),
            "Bearer ttp_abc"
        );
        assert_eq!(format!("{bearer:?}"), "Bearer(<token>)");
        let request = Bearer::none().call(Request::new(())).unwrap();
        assert!(request.metadata().get(AUTHORIZATION).is_none());
        assert!(Bearer::new("ttp_a\nb").is_err());
    }
}
