//! A bare actix-web endpoint for the load benchmark (`bench/load.sh`): `GET /need` answers a
//! fixed JSON body, with nothing between the socket and the handler, so the benchmark can set
//! capmatch's gateway → needs hop beside the cheapest answer actix-web can give.
//!
//! Usage: `bare-endpoint [ADDR]` (default `127.0.0.1:0`). It prints `port=N` once bound.
//! `BARE_BODY_FILE` names a file whose bytes are the body (the benchmark passes a need as the
//! gateway serves it); without it a need-shaped body of similar size is served.

use std::io::Write;

use actix_web::web::{Bytes, Data};
use actix_web::{App, HttpResponse, HttpServer, get};

/// A need as `GET /v1/needs/{id}` answers it, give or take a field.
const NEED: &str = r#"{"id":"6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b7c1a90","state":{"country":"SN","region":"011"},"title":"Establishing a national CSIRT","description":"Senegal asks for help to establish its national computer security incident response team: governance, staffing plan, playbooks and first exercises.","themes":["incident_management_cip"],"topics":["incident_management_cip.csirt_establishment"],"support_types":["technical_assistance","training"],"languages":["fr"],"visibility":"public","status":"open","version":1,"posted_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#;

#[get("/need")]
async fn need(body: Data<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.get_ref().clone())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let body = match std::env::var_os("BARE_BODY_FILE") {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => Bytes::from_static(NEED.as_bytes()),
    };
    let body = Data::new(body);
    let server = HttpServer::new(move || App::new().app_data(body.clone()).service(need))
        .bind(addr.as_str())?;
    let port = server
        .addrs()
        .first()
        .map(|a| a.port())
        .ok_or_else(|| std::io::Error::other("bound to no address"))?;
    let mut out = std::io::stdout();
    writeln!(out, "port={port}")?;
    out.flush()?;
    server.run().await
}
