//! The one way to send an operation outside the generated calls, read from the operation
//! model: the streamed reply and the MCP server's tools build their requests here, and they
//! go through the same checks, retries, deadline and error reading as a generated call.

use std::sync::Arc;

use progenitor_client::ClientInfo;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    error::{ApiError, Error, ErrorKind, snippet},
    model::{Location, Operation},
    transport::{self, Inner},
};

/// What a call that asked for an event stream got.
#[derive(Debug)]
pub(crate) enum StreamOrJson {
    /// The event stream, its head read.
    Events(reqwest::Response),
    /// A success answered with JSON instead.
    Json { status: u16, value: Value },
}

/// One operation with its arguments, as text: path parameters by name, query pairs (a name
/// may repeat), and a JSON body.
#[derive(Debug)]
pub(crate) struct OperationCall {
    operation: &'static Operation,
    path: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    /// A parameter the operation does not have, reported when the call is sent.
    unknown: Option<String>,
}

impl OperationCall {
    pub(crate) fn new(operation: &'static Operation) -> Self {
        Self {
            operation,
            path: Vec::new(),
            query: Vec::new(),
            body: None,
            unknown: None,
        }
    }

    /// Sets a path parameter.
    pub(crate) fn path(mut self, name: &str, value: impl Into<String>) -> Self {
        match self.operation.param(name, Location::Path) {
            Some(param) => self.path.push((param.name, value.into())),
            None => self.unknown = Some(format!("path parameter {name}")),
        }
        self
    }

    /// Adds a query pair.
    pub(crate) fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        match self.operation.param(name, Location::Query) {
            Some(param) => self.query.push((param.name, value.into())),
            None => self.unknown = Some(format!("query parameter {name}")),
        }
        self
    }

    /// Sets the JSON body.
    pub(crate) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Sends the call and reads its JSON answer as `T` (`None` for an answer without a body).
    pub(crate) async fn json<B, C, T>(self, client: &C) -> Result<Option<T>, Error>
    where
        B: ApiError + DeserializeOwned,
        C: ClientInfo<Arc<Inner>>,
        T: DeserializeOwned,
    {
        let inner = client.inner();
        let request = self.request(client, None)?;
        let id = self.operation.id;
        transport::bounded(inner, async {
            let response = transport::execute(inner, client.client(), request, id)
                .await
                .map_err(|e| Error::transport(inner.api, e))?;
            let (status, headers, bytes) = transport::success_body::<B>(inner, response).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            transport::decode(inner, status, &headers, &bytes).map(Some)
        })
        .await
    }

    /// Sends the call asking for an event stream and returns it, or, when the server answered
    /// a success with JSON instead (a server that does not stream this call), that answer. Any
    /// other content type is an error. The call's deadline covers the request and the head.
    pub(crate) async fn stream_or_json<B, C>(self, client: &C) -> Result<StreamOrJson, Error>
    where
        B: ApiError + DeserializeOwned,
        C: ClientInfo<Arc<Inner>>,
    {
        let inner = client.inner();
        if !self.operation.streams {
            // The model says this operation never answers with events: asking would only
            // make the server refuse or ignore the Accept header.
            return Err(Error::new(ErrorKind::InvalidRequest {
                reason: format!("{} does not answer as an event stream", self.operation.id),
            })
            .with_api(inner.api));
        }
        let request = self.request(client, Some("text/event-stream"))?;
        let id = self.operation.id;
        transport::bounded(inner, async {
            let response = transport::execute(inner, client.client(), request, id)
                .await
                .map_err(|e| Error::transport(inner.api, e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(transport::error_from_response::<B>(inner, response).await);
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if content_type.starts_with("text/event-stream") {
                return Ok(StreamOrJson::Events(response));
            }
            if content_type.starts_with("application/json") {
                let (status, headers, bytes) =
                    transport::success_body::<B>(inner, response).await?;
                let value = transport::decode(inner, status, &headers, &bytes)?;
                return Ok(StreamOrJson::Json {
                    status: status.as_u16(),
                    value,
                });
            }
            Err(Error::new(ErrorKind::InvalidResponse {
                reason: format!(
                    "asked for an event stream, got {status} with content type \"{}\"",
                    snippet(&content_type)
                ),
            })
            .with_api(inner.api)
            .with_status(status.as_u16()))
        })
        .await
    }

    /// The request, checked like a generated one before anything is sent.
    fn request<C: ClientInfo<Arc<Inner>>>(
        &self,
        client: &C,
        accept: Option<&'static str>,
    ) -> Result<reqwest::Request, Error> {
        let inner = client.inner();
        let id = self.operation.id;
        let refuse = |reason: String| {
            Error::new(ErrorKind::InvalidRequest {
                reason: format!("{id}: {reason}"),
            })
            .with_api(inner.api)
        };
        if let Some(unknown) = &self.unknown {
            return Err(refuse(format!("{unknown} is not one of its parameters")));
        }
        let template = self.operation.path;
        let mut path = String::with_capacity(template.len() + 32);
        for (i, part) in template.split('/').enumerate() {
            if i > 0 {
                path.push('/');
            }
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    let value = self
                        .path
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str())
                        .ok_or_else(|| refuse(format!("path parameter {name} is required")))?;
                    path.push_str(&transport::path_segment(name, value).map_err(refuse)?);
                }
                None => path.push_str(part),
            }
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", client.baseurl()))
            .map_err(|e| refuse(format!("cannot form the URL: {e}")))?;
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &self.query {
                pairs.append_pair(name, value);
            }
        }
        let mut builder = client
            .client()
            .request(self.operation.method.to_reqwest(), url);
        if let Some(accept) = accept {
            builder = builder.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(body) = &self.body {
            builder = builder.json(body);
        }
        let mut request = builder
            .build()
            .map_err(|e| inner.guard(Error::transport(inner.api, e)))?;
        transport::prepare(inner, &mut request, id).map_err(|reason| {
            // `prepare` names the operation itself.
            Error::new(ErrorKind::InvalidRequest { reason }).with_api(inner.api)
        })?;
        Ok(request)
    }
}
