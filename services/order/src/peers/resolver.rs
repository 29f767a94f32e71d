//! The peers' host names, resolved through the system resolver and
//! remembered. A burst of requests opens many connections at once, and
//! each would look the name up again; a container network's DNS server
//! that loses answers (podman 4.3's aardvark-dns did, on an earlier machine
//! of ours) then costs a request the system resolver's 5 s timeout, which
//! is the whole peer timeout. Remembered, a name is looked up at most once per
//! `FRESH_FOR`, and a lookup that fails or is slow falls back to the last
//! addresses found.
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long an answer is used without asking again.
const FRESH_FOR: Duration = Duration::from_secs(30);
/// How long a lookup may take when an older answer can stand in for it.
const PATIENCE: Duration = Duration::from_secs(1);

type Lookup = fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;

/// A [`Resolve`] that remembers each host's last answer.
#[derive(Clone)]
pub(super) struct RememberingResolver {
    known: Arc<Mutex<HashMap<String, Known>>>,
    lookup: Lookup,
}

impl std::fmt::Debug for RememberingResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RememberingResolver").finish_non_exhaustive()
    }
}

struct Known {
    addresses: Vec<SocketAddr>,
    found_at: Instant,
}

impl Default for RememberingResolver {
    fn default() -> Self {
        Self::with_lookup(|host| {
            Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
        })
    }
}

impl RememberingResolver {
    fn with_lookup(lookup: Lookup) -> Self {
        RememberingResolver {
            known: Arc::default(),
            lookup,
        }
    }

    /// Looks `host` up until it resolves, so that the first burst of
    /// requests finds it remembered; a peer that is not up yet (its name not
    /// yet registered) is waited for.
    pub async fn warm_up(&self, host: &str) {
        while self.addresses(host).await.is_err() {
            tokio::time::sleep(PATIENCE).await;
        }
    }

    async fn addresses(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        let remembered = self.remembered(host);
        if let Some((addresses, true)) = &remembered {
            return Ok(addresses.clone());
        }
        let lookup = (self.lookup)(host.to_owned());
        let found = match remembered {
            Some((stale, _)) => match tokio::time::timeout(PATIENCE, lookup).await {
                Ok(Ok(found)) if !found.is_empty() => found,
                _ => return Ok(stale),
            },
            None => lookup.await?,
        };
        self.remember(host, &found);
        Ok(found)
    }

    /// The host's last addresses, and whether they are fresh.
    fn remembered(&self, host: &str) -> Option<(Vec<SocketAddr>, bool)> {
        let known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = known.get(host)?;
        Some((entry.addresses.clone(), entry.found_at.elapsed() < FRESH_FOR))
    }

    fn remember(&self, host: &str, addresses: &[SocketAddr]) {
        if addresses.is_empty() {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = Known {
            addresses: addresses.to_vec(),
            found_at: Instant::now(),
        };
        known.insert(host.to_owned(), entry);
    }
}

impl Resolve for RememberingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addresses = this.addresses(name.as_str()).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

    fn address() -> SocketAddr {
        SocketAddr::from(([10, 89, 0, 7], 0))
    }

    #[tokio::test]
    async fn a_fresh_answer_is_used_without_asking_again() {
        let resolver = RememberingResolver::with_lookup(|_| {
            LOOKUPS.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(vec![address()]) })
        });

        let first = resolver.addresses("gateway").await.expect("found");
        let again = resolver.addresses("gateway").await.expect("remembered");

        assert_eq!((first, again), (vec![address()], vec![address()]));
        assert_eq!(LOOKUPS.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_answer_stands_in_for_a_lookup_that_hangs_or_fails() {
        let hanging = RememberingResolver::with_lookup(|_| Box::pin(std::future::pending()));
        let failing =
            RememberingResolver::with_lookup(|_| Box::pin(async { Err(std::io::Error::other("no answer")) }));
        for resolver in [&hanging, &failing] {
            resolver.remember("gateway", &[address()]);
            let stale = Instant::now() - FRESH_FOR - Duration::from_secs(1);
            resolver
                .known
                .lock()
                .expect("unpoisoned")
                .get_mut("gateway")
                .expect("known")
                .found_at = stale;
        }

        let from_hanging = hanging.addresses("gateway").await.expect("the last answer");
        let from_failing = failing.addresses("gateway").await.expect("the last answer");

        assert_eq!((from_hanging, from_failing), (vec![address()], vec![address()]));
    }

    #[tokio::test]
    async fn a_host_never_found_is_an_error() {
        let resolver = RememberingResolver::with_lookup(|_| {
            Box::pin(async { Err(std::io::Error::other("no such host")) })
        });

        assert!(resolver.addresses("gateway").await.is_err());
    }
}
