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

/// Empty query values (`?country=&cursor=`) mean "not given": this middleware drops them before
/// any query is parsed, so every list of every service treats an empty filter as no filter
/// rather than as an invalid one.
pub async fn drop_empty_query_values(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let rewritten = req.uri().query().and_then(|query| {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                pair.split_once('=')
                    .is_some_and(|(_, value)| !value.is_empty())
            })
            .collect();
        let original = query.split('&').count();
        if kept.len() == original {
            return None;
        }
        let path = req.uri().path();
        let text = if kept.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", kept.join("&"))
        };
        text.parse::<actix_web::http::Uri>().ok()
    });
    if let Some(uri) = rewritten {
        req.head_mut().uri = uri;
    }
    next.call(req).await
}
