//! What a truyenthong client presents on every call: a bearer token in `authorization`, and,
//! for a service acting for a signed-in person, that person's session and address
//! (proto/truyenthong/v1/district_accounts.proto).
//!
//! A tonic interceptor, so that a client made once with [`Credential`] sends it on every call
//! and call sites stay `client.get_plan_view(...)`; a per-person variant
//! ([`Credential::on_behalf_of`]) is cheap to make per request (a channel clone and three
//! header values).

use tonic::metadata::{AsciiMetadataValue, MetadataMap, errors::InvalidMetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// The metadata key of a person's session token sent by a service.
pub const ON_BEHALF_OF: &str = "x-truyenthong-on-behalf-of";
/// The metadata key of that person's address, as the service saw it.
pub const CLIENT_ADDRESS: &str = "x-truyenthong-client-address";

/// The token a call presents in `authorization: Bearer <token>` (the scheme in any case, the
/// token trimmed); `None` for none, an empty one or another scheme. The one reading of the
/// header every server shares.
pub fn bearer_token(metadata: &MetadataMap) -> Option<String> {
    let value = metadata.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// A channel whose every call carries a [`Credential`].
pub type AuthorizedChannel = InterceptedService<Channel, Credential>;

/// Why a token cannot be sent: it holds characters a header cannot.
#[derive(Debug, thiserror::Error)]
#[error("the token cannot be sent as a gRPC header: {0}")]
pub struct CredentialError(#[from] InvalidMetadataValue);

/// The credential a client sends. Its `Debug` never shows a token.
#[derive(Clone)]
pub struct Credential {
    authorization: AsciiMetadataValue,
    on_behalf_of: Option<AsciiMetadataValue>,
    client_address: Option<AsciiMetadataValue>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("on_behalf_of", &self.on_behalf_of.is_some())
            .finish_non_exhaustive()
    }
}

fn value(text: &str) -> Result<AsciiMetadataValue, CredentialError> {
    let mut value: AsciiMetadataValue = text.parse()?;
    value.set_sensitive(true);
    Ok(value)
}

impl Credential {
    /// A person's session token (`ttp_…`) or a service's token (`tts_…`).
    pub fn bearer(token: &str) -> Result<Self, CredentialError> {
        Ok(Self {
            authorization: value(&format!("Bearer {}", token.trim()))?,
            on_behalf_of: None,
            client_address: None,
        })
    }

    /// This (service's) credential acting for the person of `session`, seen at `address`.
    pub fn on_behalf_of(
        &self,
        session: &str,
        address: Option<&str>,
    ) -> Result<Self, CredentialError> {
        let address = address
            .map(|a| a.parse::<AsciiMetadataValue>())
            .transpose()?;
        Ok(Self {
            authorization: self.authorization.clone(),
            on_behalf_of: Some(value(session)?),
            client_address: address,
        })
    }

    /// This credential, telling the server the address of the person it serves (a sign-in,
    /// before there is a session).
    pub fn with_client_address(&self, address: &str) -> Result<Self, CredentialError> {
        Ok(Self {
            client_address: Some(address.parse()?),
            ..self.clone()
        })
    }

    /// A channel that sends this credential on every call.
    pub fn on(self, channel: Channel) -> AuthorizedChannel {
        InterceptedService::new(channel, self)
    }
}

impl Interceptor for Credential {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let metadata = request.metadata_mut();
        metadata.insert("authorization", self.authorization.clone());
        if let Some(session) = &self.on_behalf_of {
            metadata.insert(ON_BEHALF_OF, session.clone());
        }
        if let Some(address) = &self.client_address {
            metadata.insert(CLIENT_ADDRESS, address.clone());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_sets_its_headers_and_hides_them_from_debug() {
        let service = Credential::bearer("tts_abc").unwrap_or_else(|e| panic!("{e}"));
        let mut person = service
            .on_behalf_of("ttp_xyz", Some("192.0.2.7"))
            .unwrap_or_else(|e| panic!("{e}"));
        let request = person
            .call(Request::new(()))
            .unwrap_or_else(|e| panic!("{e}"));
        let m = request.metadata();
        assert_eq!(
            m.get("authorization").map(|v| v.to_str().ok()),
            Some(Some("Bearer tts_abc"))
        );
        assert_eq!(
            m.get(ON_BEHALF_OF).map(|v| v.to_str().ok()),
            Some(Some("ttp_xyz"))
        );
        assert_eq!(
            m.get(CLIENT_ADDRESS).map(|v| v.to_str().ok()),
            Some(Some("192.0.2.7"))
        );
        assert!(!format!("{person:?}").contains("tts_abc"));
        assert!(Credential::bearer("tts_a\nb").is_err());
        assert_eq!(bearer_token(m).as_deref(), Some("tts_abc"));
        let mut other = MetadataMap::new();
        other.insert(
            "authorization",
            "Basic dXNlcg==".parse().unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(bearer_token(&other), None);
        other.insert(
            "authorization",
            "bearer   ttp_x ".parse().unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(bearer_token(&other).as_deref(), Some("ttp_x"));
    }
}
