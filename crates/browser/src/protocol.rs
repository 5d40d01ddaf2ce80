//! The messages of the KeePassXC-Browser protocol (`keepassxc-protocol.md`
//! in the extension's repository): the envelope every request comes in,
//! the error codes the extension knows, and the replies' shapes.
//!
//! A request is `{action, message, nonce, clientID, [requestID],
//! [triggerUnlock]}` where `message` is the `crypto_box` of a JSON object
//! holding the action's arguments; `change-public-keys` alone travels in
//! the clear, with `publicKey`. A reply is `{action, message, nonce}` with
//! the request's nonce incremented and, inside, `{version, success: "true",
//! nonce, …}`; an error is `{action, errorCode, error, [requestID]}` in the
//! clear (the extension matches an error to its request by `requestID`, or
//! by having none).

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The version Tessera reports. The extension compares it against
/// KeePassXC releases to decide which features it may use (`get-totp`
/// needs 2.6.1, the identification key 2.3.4); Tessera serves what 2.7
/// serves, minus passkeys and auto-type.
pub const PROTOCOL_VERSION: &str = "2.7.10";

/// The error codes of the protocol, numbered as KeePassXC numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorCode {
    /// The vault is locked (or no vault is open).
    DatabaseNotOpened = 1,
    /// No database hash in the request.
    DatabaseHashNotReceived = 2,
    /// No key exchange yet (or a malformed public key).
    ClientPublicKeyNotReceived = 3,
    /// The message does not decrypt, or its nonce was refused.
    CannotDecryptMessage = 4,
    /// Tessera is not running, or did not answer.
    TimeoutOrNotConnected = 5,
    /// The user said no, or did not answer.
    ActionCancelledOrDenied = 6,
    /// The reply could not be sealed.
    CannotEncryptMessage = 7,
    /// Unknown or revoked connection.
    AssociationFailed = 8,
    /// The key exchange failed.
    KeyChangeFailed = 9,
    /// The encryption key is not recognised.
    EncryptionKeyUnrecognized = 10,
    /// No saved connection.
    NoSavedDatabasesFound = 11,
    /// An action Tessera does not serve, or a message for another action.
    IncorrectAction = 12,
    /// An empty or unreadable message.
    EmptyMessageReceived = 13,
    /// No URL, or one that cannot be matched.
    NoUrlProvided = 14,
    /// Nothing for this page (or nothing the user allowed).
    NoLoginsFound = 15,
    /// No folders.
    NoGroupsFound = 16,
    /// The folder cannot be made.
    CannotCreateNewGroup = 17,
    /// The item id is not valid or not known.
    NoValidUuidProvided = 18,
}

impl ErrorCode {
    /// The sentence the extension shows (in KeePassXC's wording where the
    /// extension's users know it).
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::DatabaseNotOpened => "Database not opened: unlock Tessera",
            ErrorCode::DatabaseHashNotReceived => "Database hash not available",
            ErrorCode::ClientPublicKeyNotReceived => "Client public key not received",
            ErrorCode::CannotDecryptMessage => "Cannot decrypt message",
            ErrorCode::TimeoutOrNotConnected => "Tessera is not running",
            ErrorCode::ActionCancelledOrDenied => "Action cancelled or denied",
            ErrorCode::CannotEncryptMessage => "Message encryption failed",
            ErrorCode::AssociationFailed => "Tessera does not know this browser connection; connect again",
            ErrorCode::KeyChangeFailed => "Key exchange was not successful",
            ErrorCode::EncryptionKeyUnrecognized => "Encryption key is not recognized",
            ErrorCode::NoSavedDatabasesFound => "No saved databases found",
            ErrorCode::IncorrectAction => "Incorrect action",
            ErrorCode::EmptyMessageReceived => "Empty message received",
            ErrorCode::NoUrlProvided => "No URL provided",
            ErrorCode::NoLoginsFound => "No logins found",
            ErrorCode::NoGroupsFound => "No groups found",
            ErrorCode::CannotCreateNewGroup => "Cannot create new group",
            ErrorCode::NoValidUuidProvided => "No valid UUID provided",
        }
    }
}

/// An error reply to `action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReply {
    /// The code.
    pub code: ErrorCode,
    /// The sentence shown; [`ErrorCode::message`] unless something more
    /// precise is known (never a secret).
    pub message: String,
}

impl ErrorReply {
    /// The code with its standard sentence.
    pub fn new(code: ErrorCode) -> ErrorReply {
        ErrorReply { code, message: code.message().to_owned() }
    }

    /// The code with a more precise sentence.
    pub fn with(code: ErrorCode, message: impl Into<String>) -> ErrorReply {
        ErrorReply { code, message: message.into() }
    }

    /// The reply as the extension expects it: in the clear, the code as a
    /// string, with the request's `requestID` when it had one.
    pub fn to_json(&self, action: &str, request_id: Option<&str>) -> Value {
        let mut reply = json!({
            "action": action,
            "errorCode": (self.code as u8).to_string(),
            "error": self.message,
        });
        if let Some(id) = request_id {
            reply["requestID"] = Value::String(id.to_owned());
        }
        reply
    }
}

impl From<ErrorCode> for ErrorReply {
    fn from(code: ErrorCode) -> Self {
        ErrorReply::new(code)
    }
}

/// The outer object of a request, as the extension sends it.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    /// The action.
    #[serde(default)]
    pub action: String,
    /// The sealed arguments, base64.
    #[serde(default)]
    pub message: Option<String>,
    /// The request's nonce, base64.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The browser session's id, base64 of 24 random bytes.
    #[serde(default, rename = "clientID")]
    pub client_id: Option<String>,
    /// Set by a few requests so an error can be matched to them.
    #[serde(default, rename = "requestID")]
    pub request_id: Option<String>,
    /// `"true"`: bring up the unlock window if the vault is locked.
    #[serde(default, rename = "triggerUnlock")]
    pub trigger_unlock: Option<String>,
    /// `change-public-keys`: the client's session public key, base64.
    #[serde(default, rename = "publicKey")]
    pub public_key: Option<String>,
}

impl Envelope {
    /// Parses a frame's JSON; `None` when it is not a JSON object.
    pub fn parse(frame: &[u8]) -> Option<Envelope> {
        let value: Value = serde_json::from_slice(frame).ok()?;
        if !value.is_object() {
            return None;
        }
        // Fields of the wrong type make the whole envelope unreadable
        // rather than silently empty.
        serde_json::from_value(value).ok()
    }

    /// Whether the extension asked to bring up the unlock window.
    pub fn wants_unlock(&self) -> bool {
        self.trigger_unlock.as_deref() == Some("true")
    }
}

/// The arguments inside a sealed request: a JSON object. Accessors treat
/// a missing or mistyped field as absent.
pub struct Arguments(pub Map<String, Value>);

impl Arguments {
    /// Parses the opened message.
    pub fn parse(plain: &[u8]) -> Option<Arguments> {
        match serde_json::from_slice::<Value>(plain).ok()? {
            Value::Object(map) => Some(Arguments(map)),
            _ => None,
        }
    }

    /// A string argument, `None` when missing, empty or not a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// The `keys` list of `get-logins`: `(id, key)` pairs.
    pub fn keys(&self) -> Vec<(String, String)> {
        self.0
            .get("keys")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|k| Some((k.get("id")?.as_str()?.to_owned(), k.get("key")?.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reply_carries_the_code_as_text_and_the_request_id() {
        let reply = ErrorReply::new(ErrorCode::NoLoginsFound).to_json("get-logins", Some("ab12cd34"));
        assert_eq!(reply["errorCode"], "15");
        assert_eq!(reply["action"], "get-logins");
        assert_eq!(reply["requestID"], "ab12cd34");
        assert!(ErrorReply::new(ErrorCode::NoLoginsFound).to_json("x", None).get("requestID").is_none());
    }

    #[test]
    fn envelopes_of_the_wrong_shape_are_refused() {
        assert!(Envelope::parse(b"[]").is_none());
        assert!(Envelope::parse(b"not json").is_none());
        assert!(Envelope::parse(br#"{"action": 5}"#).is_none());
        let e = Envelope::parse(br#"{"action":"get-logins","clientID":"x","triggerUnlock":"true"}"#).unwrap();
        assert!(e.wants_unlock());
        assert_eq!(e.client_id.as_deref(), Some("x"));
    }
}
