//! The extension's side of the protocol, for tests and benchmarks that
//! play KeePassXC-Browser against the real host and app: key exchange,
//! sealed requests with fresh nonces, and checked replies (the reply's
//! nonce must be the request's plus one, inside and out, as the extension
//! checks).

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::crypto::{
    ClientKeyPair, KEY_LEN, NONCE_LEN, Nonce, SessionBox, decode_b64, decode_fixed, encode_b64, increment,
};
use tessera_ipc::frame::{Frame, read_frame, write_frame};

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The host answered with an error reply.
    Refused {
        /// `errorCode`, as sent.
        code: String,
        /// `error`.
        message: String,
    },
    /// The reply broke the protocol (bad nonce, not decryptable, …).
    Protocol(String),
    /// The stream failed or closed.
    Io(String),
}

impl ClientError {
    /// The error code, when the host refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One extension session over a frame stream (the host's stdin/stdout, or
/// the app's socket directly).
pub struct ExtensionClient<R, W> {
    reader: R,
    writer: W,
    keys: ClientKeyPair,
    sealed: Option<SessionBox>,
    /// The base64 client id of this session.
    pub client_id: String,
    /// The identification key the session associates with.
    pub id_key: String,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random generator is available");
    b
}

impl<R: Read, W: Write> ExtensionClient<R, W> {
    /// A new session with fresh keys (not yet exchanged).
    pub fn new(reader: R, writer: W) -> Self {
        ExtensionClient {
            reader,
            writer,
            keys: ClientKeyPair::generate(),
            sealed: None,
            client_id: encode_b64(&random_bytes::<NONCE_LEN>()),
            id_key: encode_b64(&ClientKeyPair::generate().public()),
        }
    }

    /// The session public key, base64.
    pub fn public_key(&self) -> String {
        encode_b64(&self.keys.public())
    }

    /// Sends one raw frame body.
    pub fn send_raw(&mut self, body: &[u8]) -> Result<(), ClientError> {
        write_frame(&mut self.writer, body).map_err(|e| ClientError::Io(e.to_string()))
    }

    /// Reads one reply frame as JSON, skipping unsolicited signals
    /// (`database-locked`/`-unlocked`) unless `signals` is set.
    pub fn read_reply(&mut self, signals: bool) -> Result<Value, ClientError> {
        loop {
            let body = match read_frame(&mut self.reader) {
                Ok(Frame::Message(b)) => b,
                Ok(Frame::TooLarge(n)) => return Err(ClientError::Protocol(format!("a {n}-byte reply"))),
                Err(e) => return Err(ClientError::Io(e.to_string())),
            };
            let v: Value = serde_json::from_slice(&body).map_err(|e| ClientError::Protocol(e.to_string()))?;
            let is_signal = matches!(v["action"].as_str(), Some("database-locked" | "database-unlocked"))
                && v.get("nonce").is_none();
            if is_signal && !signals {
                continue;
            }
            return Ok(v);
        }
    }

    /// `change-public-keys`.
    pub fn change_public_keys(&mut self) -> Result<Value, ClientError> {
        let nonce: Nonce = random_bytes();
        let request = json!({
            "action": "change-public-keys",
            "publicKey": self.public_key(),
            "nonce": encode_b64(&nonce),
            "clientID": self.client_id,
        });
        self.send_raw(&serde_json::to_vec(&request).expect("JSON"))?;
        let reply = self.read_reply(false)?;
        refused(&reply)?;
        if reply["nonce"] != encode_b64(&increment(&nonce)) {
            return Err(ClientError::Protocol("the reply's nonce is not the request's plus one".into()));
        }
        let host: [u8; KEY_LEN] = reply["publicKey"]
            .as_str()
            .and_then(decode_fixed)
            .ok_or_else(|| ClientError::Protocol("no host public key".into()))?;
        self.sealed = Some(self.keys.session(&host));
        Ok(reply)
    }

    /// Seals `message` for `action` under `nonce` (fresh if `None`) and
    /// returns the request's JSON, for tests that want to send it twice.
    pub fn seal(&self, action: &str, message: &Value, nonce: Option<Nonce>, trigger_unlock: bool) -> (Value, Nonce) {
        let nonce = nonce.unwrap_or_else(random_bytes);
        let sealed = self.sealed.as_ref().expect("change_public_keys first");
        let message = sealed.seal(&nonce, &serde_json::to_vec(message).expect("JSON"));
        let mut request = json!({
            "action": action,
            "message": encode_b64(&message),
            "nonce": encode_b64(&nonce),
            "clientID": self.client_id,
        });
        if trigger_unlock {
            request["triggerUnlock"] = json!("true");
        }
        (request, nonce)
    }

    /// Opens a sealed reply to a request sent under `nonce`, checking both
    /// nonces as the extension does.
    pub fn open_reply(&self, reply: &Value, nonce: &Nonce) -> Result<Value, ClientError> {
        refused(reply)?;
        let expected = encode_b64(&increment(nonce));
        if reply["nonce"] != expected {
            return Err(ClientError::Protocol("the reply's nonce is not the request's plus one".into()));
        }
        let reply_nonce: Nonce = decode_fixed(reply["nonce"].as_str().unwrap_or_default())
            .ok_or_else(|| ClientError::Protocol("nonce".into()))?;
        let message = reply["message"]
            .as_str()
            .and_then(decode_b64)
            .ok_or_else(|| ClientError::Protocol("no sealed message in the reply".into()))?;
        let sealed = self.sealed.as_ref().ok_or_else(|| ClientError::Protocol("no session".into()))?;
        let plain =
            sealed.open(&reply_nonce, &message).map_err(|_| ClientError::Protocol("reply does not open".into()))?;
        let inner: Value = serde_json::from_slice(&plain).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if inner["nonce"] != expected || inner["success"] != "true" {
            return Err(ClientError::Protocol("the sealed reply's nonce or success flag is wrong".into()));
        }
        Ok(inner)
    }

    /// One sealed request and its checked reply.
    pub fn request(&mut self, action: &str, mut message: Value) -> Result<Value, ClientError> {
        message["action"] = json!(action);
        let (request, nonce) = self.seal(action, &message, None, false);
        self.send_raw(&serde_json::to_vec(&request).expect("JSON"))?;
        let reply = self.read_reply(false)?;
        self.open_reply(&reply, &nonce)
    }

    /// `associate` with this session's identification key.
    pub fn associate(&mut self) -> Result<Value, ClientError> {
        let message = json!({ "key": self.public_key(), "idKey": self.id_key });
        self.request("associate", message)
    }

    /// `test-associate` as connection `name`.
    pub fn test_associate(&mut self, name: &str) -> Result<Value, ClientError> {
        let message = json!({ "id": name, "key": self.id_key });
        self.request("test-associate", message)
    }

    /// `get-logins` for `url` as connection `name`.
    pub fn get_logins(&mut self, name: &str, url: &str) -> Result<Value, ClientError> {
        let message = json!({ "id": name, "url": url, "submitUrl": url, "keys": [{ "id": name, "key": self.id_key }] });
        self.request("get-logins", message)
    }

    /// The stream to the host, for writing what no well-behaved extension
    /// would (an oversized frame, half a frame).
    pub fn raw_writer(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Gives the streams back.
    pub fn into_parts(self) -> (R, W) {
        (self.reader, self.writer)
    }
}

fn refused(reply: &Value) -> Result<(), ClientError> {
    match reply.get("errorCode") {
        Some(code) => Err(ClientError::Refused {
            code: code.as_str().map(str::to_owned).unwrap_or_else(|| code.to_string()),
            message: reply["error"].as_str().unwrap_or_default().to_owned(),
        }),
        None => Ok(()),
    }
}
