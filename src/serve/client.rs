//! The async HTTP/1.1 client (hyper on a single-threaded tokio runtime):
//! keep-alive connections kept in a pool and reused, so no request pays for
//! a connection set-up (nor, over https, a TLS handshake) once the pool is
//! warm; responses read frame by frame and timestamped the moment each
//! arrives.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::request::Trace;
use super::sse::{read_chunk, Chunk, SseParser};
use super::tls::{Tls, TlsError, TlsOptions};

/// Where the server is: `http[s]://HOST[:PORT][/PREFIX]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// Path prefix before `/completion` etc. ("" for none).
    pub prefix: String,
    /// `--header K:V`, sent with every request.
    pub headers: Vec<(String, String)>,
    /// `https://`: the TLS client configuration every connection shares.
    pub tls: Option<Tls>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UrlError {
    #[error(
        "--url '{0}' is not an http:// or https:// URL with a host (e.g. http://127.0.0.1:8080)"
    )]
    Bad(String),
    #[error("--header '{0}' is not KEY:VALUE (e.g. 'Authorization: Bearer sk-...')")]
    Header(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl Endpoint {
    /// An endpoint; an `https://` one trusts the system's certificates.
    pub fn parse(url: &str, headers: &[String]) -> Result<Endpoint, UrlError> {
        Endpoint::parse_with(url, headers, &TlsOptions::default())
    }

    /// An endpoint; an `https://` one trusts what `tls` says.
    pub fn parse_with(
        url: &str,
        headers: &[String],
        tls: &TlsOptions,
    ) -> Result<Endpoint, UrlError> {
        let (rest, default_port, https) = match url.strip_prefix("https://") {
            Some(rest) => (rest, 443, true),
            None => (
                url.strip_prefix("http://")
                    .ok_or_else(|| UrlError::Bad(url.to_string()))?,
                80,
                false,
            ),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| UrlError::Bad(url.to_string()))?),
            None => (authority, default_port),
        };
        if host.is_empty() {
            return Err(UrlError::Bad(url.to_string()));
        }
        let headers = headers
            .iter()
            .map(|h| {
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| UrlError::Header(h.clone()))?;
                Ok((k.trim().to_string(), v.trim().to_string()))
            })
            .collect::<Result<_, UrlError>>()?;
        Ok(Endpoint {
            host: host.trim_matches(['[', ']']).to_string(),
            port,
            prefix: path.trim_end_matches('/').to_string(),
            headers,
            tls: if https { Some(Tls::new(tls)?) } else { None },
        })
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}:{}{}", self.host, self.port, self.prefix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("HTTP error: {0}")]
    Http(String),
    #[error("server answered {0}: {1}")]
    Status(u16, String),
    #[error("{0}")]
    Stream(String),
}

impl ClientError {
    /// The kind under which errors are counted.
    pub fn kind(&self) -> String {
        match self {
            ClientError::Connect(..) => "connect".into(),
            ClientError::Http(_) => "http".into(),
            ClientError::Status(s, _) => format!("http_{s}"),
            ClientError::Stream(_) => "stream".into(),
        }
    }
}

/// An HTTP/1.1 connection over `io` (plain TCP or TLS), driven on its own task.
async fn http1_over<T>(io: T) -> Result<Sender, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Milliseconds since the block's start on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock(pub Instant);

impl Clock {
    pub fn ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1000.0
    }
}

type Sender = SendRequest<Full<Bytes>>;
type Response = hyper::Response<hyper::body::Incoming>;

/// An idle connection older than this is closed rather than reused:
/// llama-server (cpp-httplib) closes keep-alive connections idle for 5 s,
/// and a request sent as it does so fails.
const IDLE_MAX: Duration = Duration::from_secs(4);

/// Idle keep-alive connections to one endpoint, with the time each went idle.
#[derive(Clone)]
pub struct Pool {
    pub endpoint: Arc<Endpoint>,
    idle: Arc<Mutex<Vec<(Sender, Instant)>>>,
}

impl Pool {
    pub fn new(endpoint: Endpoint) -> Pool {
        Pool {
            endpoint: Arc::new(endpoint),
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// An idle connection (true: reused), or a new one.
    async fn sender(&self) -> Result<(Sender, bool), ClientError> {
        while let Some((s, since)) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
            if s.is_ready() && since.elapsed() < IDLE_MAX {
                return Ok((s, true));
            }
        }
        Ok((self.connect().await?, false))
    }

    async fn connect(&self) -> Result<Sender, ClientError> {
        let e = &self.endpoint;
        let connect_err = |why: String| ClientError::Connect(e.url(), why);
        let stream = tokio::net::TcpStream::connect((e.host.as_str(), e.port))
            .await
            .map_err(|x| connect_err(x.to_string()))?;
        let _ = stream.set_nodelay(true);
        let sender = match &e.tls {
            None => http1_over(stream).await,
            Some(tls) => http1_over(tls.connect(&e.host, stream).await.map_err(connect_err)?).await,
        };
        sender.map_err(|x| connect_err(x.to_string()))
    }

    fn put(&self, s: Sender) {
        if !s.is_closed() {
            if let Ok(mut v) = self.idle.lock() {
                v.push((s, Instant::now()));
            }
        }
    }

    /// Sends a request; one that fails on a reused connection before any
    /// answer (the server closed it as it went out) is sent again on a new one.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Bytes,
    ) -> Result<(Sender, Response), ClientError> {
        let http = |x: hyper::Error| ClientError::Http(x.to_string());
        let (mut s, reused) = self.sender().await?;
        match s
            .send_request(self.request(method, path, body.clone())?)
            .await
        {
            Ok(r) => Ok((s, r)),
            Err(_) if reused => {
                let mut s = self.connect().await?;
                let r = s.send_request(self.request(method, path, body)?).await;
                Ok((s, r.map_err(http)?))
            }
            Err(x) => Err(http(x)),
        }
    }

    /// Opens `n` connections ahead of the load, so the first requests pay no set-up.
    pub async fn warm(&self, n: usize) -> Result<(), ClientError> {
        let mut fresh = Vec::new();
        for _ in 0..n {
            fresh.push(self.connect().await?);
        }
        fresh.into_iter().for_each(|s| self.put(s));
        Ok(())
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: Bytes,
    ) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
        let e = &self.endpoint;
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", e.prefix))
            .header("host", format!("{}:{}", e.host, e.port))
            .header("content-type", "application/json");
        for (k, v) in &e.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(Full::new(body))
            .map_err(|x| ClientError::Http(x.to_string()))
    }

    /// A plain request; the status and the whole body as text.
    pub async fn text(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, String), ClientError> {
        let body = body.map(Bytes::from).unwrap_or_default();
        let (s, resp) = self.send(method, path, body).await?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|x| ClientError::Http(x.to_string()))?
            .to_bytes();
        self.put(s);
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A JSON request that must answer 200 with JSON.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let (status, text) = self.text(method, path, body.map(|b| b.to_string())).await?;
        if status != 200 {
            return Err(ClientError::Status(status, first_chars(&text)));
        }
        serde_json::from_str(&text)
            .map_err(|e| ClientError::Stream(format!("{path}: not JSON: {e}")))
    }

    /// Sends one streaming request and records what happened in `t`.
    pub async fn stream(&self, path: &str, body: Bytes, chat: bool, clock: Clock, t: &mut Trace) {
        if let Err(e) = self.stream_inner(path, body, chat, clock, t).await {
            t.error = Some((e.kind(), e.to_string()));
        }
    }

    async fn stream_inner(
        &self,
        path: &str,
        body: Bytes,
        chat: bool,
        clock: Clock,
        t: &mut Trace,
    ) -> Result<(), ClientError> {
        t.send_ms = Some(clock.ms());
        let (s, resp) = self.send("POST", path, body).await?;
        t.headers_ms = Some(clock.ms());
        let status = resp.status().as_u16();
        t.http_status = Some(status);
        let mut body = resp.into_body();
        if status != 200 {
            let text = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(ClientError::Status(
                status,
                first_chars(&String::from_utf8_lossy(&text)),
            ));
        }
        let mut sse = SseParser::default();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|x| ClientError::Http(x.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let at = clock.ms();
            for event in sse.push(&data) {
                t.first_chunk_ms.get_or_insert(at);
                let chunk =
                    read_chunk(&event, chat).map_err(|e| ClientError::Stream(e.to_string()))?;
                apply(t, chunk, at);
            }
        }
        t.end_ms = Some(clock.ms());
        self.put(s);
        if t.stop.is_none() {
            return Err(ClientError::Stream(
                "the stream ended without a final chunk".into(),
            ));
        }
        Ok(())
    }
}

fn apply(t: &mut Trace, c: Chunk, at: f64) {
    if !c.content.is_empty() || c.tokens.is_some_and(|k| k > 0) {
        t.content.push((at, c.tokens));
    }
    if c.stop.is_some() {
        t.stop = c.stop;
    }
    if c.timings.is_some() {
        t.timings = c.timings;
    }
    if c.predicted.is_some() {
        t.predicted = c.predicted;
    }
}

fn first_chars(s: &str) -> String {
    s.chars().take(300).collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_headers_parse() {
        let e = Endpoint::parse(
            "http://127.0.0.1:8080/v/",
            &["Authorization: Bearer x".into()],
        )
        .unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.prefix.as_str()),
            ("127.0.0.1", 8080, "/v")
        );
        assert_eq!(e.headers, vec![("Authorization".into(), "Bearer x".into())]);
        assert_eq!(Endpoint::parse("http://box", &[]).unwrap().port, 80);
        let https = Endpoint::parse_with(
            "https://box.example/v1",
            &[],
            &TlsOptions {
                cacert: None,
                insecure: true,
            },
        )
        .unwrap();
        assert_eq!(
            (https.port, https.url().as_str()),
            (443, "https://box.example:443/v1")
        );
        assert_eq!(Endpoint::parse("http://box", &[]).unwrap().tls, None);
        assert!(matches!(
            Endpoint::parse("x:80", &[]),
            Err(UrlError::Bad(_))
        ));
        assert!(matches!(
            Endpoint::parse("http://x:y", &[]),
            Err(UrlError::Bad(_))
        ));
        assert!(matches!(
            Endpoint::parse("http://x", &["nocolon".into()]),
            Err(UrlError::Header(_))
        ));
    }
}
