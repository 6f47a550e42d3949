//! Extractors the services share beyond `capmatch-http`'s.

use std::future::{Future, ready};
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

/// A JSON body that may be absent: no body (no `Content-Length` and no `Transfer-Encoding`, or
/// `Content-Length: 0`) or a JSON `null` is `None`; any other body is parsed exactly as
/// `web::Json` would, with the same problem answers (400, 413, 415, 422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

fn has_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    match headers.get(header::CONTENT_LENGTH) {
        Some(length) => length.to_str().ok().map(str::trim) != Some("0"),
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        if !has_body(req) {
            return Box::pin(ready(Ok(Self(None))));
        }
        let json = web::Json::<Option<T>>::from_request(req, payload);
        Box::pin(async move { json.await.map(|body| Self(body.into_inner())) })
    }
}
