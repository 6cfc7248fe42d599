//! The password-hashing service. Every CPU-heavy hash (argon2id and Grafana's PBKDF2 for
//! passwords, PBKDF2 for machine tokens) runs on a small, fixed pool of worker threads
//! (`[security] password_hash_concurrency`, 0 = one per core), each keeping one argon2 memory
//! buffer for the configured cost between jobs. At most `[security] password_hash_queue` jobs
//! wait for a worker; past that a request is shed with a 503 instead of queueing without bound.
//! So hashing memory is bounded by the pool size (≈ 19 MiB a worker), not by the request rate.
//!
//! The service also remembers how long recent password checks took on a worker, so that a
//! refusal which checks nothing (a locked-out login) can take about as long as a real check
//! would take now — that work, plus the wait behind the jobs queued at this moment — without
//! spending a hash ([`Hasher::pause_like_verify`]).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::config::PasswordHashScheme;
use crate::domain::password::{self, StoredPassword, Workspace};

/// Why a job did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every worker is busy and the queue is full.
    #[error("too many password checks are waiting")]
    Overloaded,
    /// The job panicked (a bug); the worker lives on.
    #[error("password hashing failed")]
    Failed,
}

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// Whether a job may be shed when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// A request's job: refused with [`HashError::Overloaded`] past the queue limit.
    Shed,
    /// Start-up, provisioning and the CLI: always queued (still run inside the pool).
    Always,
}

/// A handle on the pool; clones share it. The workers stop when the last handle is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// Jobs accepted and not yet finished (running or waiting).
    pending: Arc<AtomicUsize>,
    workers: usize,
    queue: usize,
    timing: Arc<VerifyTiming>,
    /// Password verifications run so far (real and dummy).
    verifications: Arc<AtomicU64>,
}

impl Hasher {
    /// Starts `workers` threads (0 = one per core) behind a queue of at most `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("usher-hash-{i}"))
                .spawn(move || {
                    // Allocated on first use and kept for this thread's life.
                    let mut workspace = Workspace::default();
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        job(&mut workspace);
                    }
                })
                .expect("spawning a password-hashing thread");
        }
        Hasher {
            jobs: tx,
            pending: Arc::new(AtomicUsize::new(0)),
            workers,
            queue,
            timing: Arc::new(VerifyTiming::default()),
            verifications: Arc::default(),
        }
    }

    /// How many password verifications this pool has run: [`Hasher::verify`],
    /// [`Hasher::verify_internal`] and [`Hasher::verify_dummy`] (which spends a real hash too),
    /// counted as each one finishes on a worker. Token hashes are not counted. For tests and
    /// diagnostics: a cached credential costs no verification.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Times one verification on its worker (the hashing work, not the wait in the queue).
    fn timed<T>(
        &self,
        f: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> impl FnOnce(&mut Workspace) -> T + Send + 'static {
        let timing = Arc::clone(&self.timing);
        move |ws| {
            let started = Instant::now();
            let out = f(ws);
            timing.record(started.elapsed());
            out
        }
    }

    /// Counts one verification, for jobs that run one.
    fn counted<T>(
        &self,
        f: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> impl FnOnce(&mut Workspace) -> T + Send + 'static {
        let count = Arc::clone(&self.verifications);
        move |ws| {
            let out = f(ws);
            count.fetch_add(1, Ordering::Relaxed);
            out
        }
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// True when a request's job would be shed now.
    pub fn is_full(&self) -> bool {
        self.pending.load(Ordering::Acquire) >= self.workers + self.queue
    }

    /// Runs `f` on a worker with that worker's memory, refusing it when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Workspace) -> T + Send + 'static,
    {
        self.submit(Admission::Shed, f).await
    }

    async fn submit<T, F>(&self, admission: Admission, f: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Workspace) -> T + Send + 'static,
    {
        let limit = self.workers + self.queue;
        let admitted = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (admission == Admission::Always || n < limit).then_some(n + 1)
            });
        if admitted.is_err() {
            return Err(HashError::Overloaded);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let pending = Arc::clone(&self.pending);
        let job: Job = Box::new(move |workspace| {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(workspace)));
            pending.fetch_sub(1, Ordering::AcqRel);
            // The caller may have gone away (client disconnected): the result is dropped.
            let _ = tx.send(outcome.map_err(|_| HashError::Failed));
        });
        if self.jobs.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Failed);
        }
        rx.await.map_err(|_| HashError::Failed)?
    }

    /// Hashes a new password for a request (shed when the queue is full).
    pub async fn hash(
        &self,
        password: String,
        scheme: PasswordHashScheme,
    ) -> Result<StoredPassword, HashError> {
        self.submit(Admission::Shed, move |ws| {
            password::hash_with(&password, scheme, ws)
        })
        .await
    }

    /// Hashes a new password for start-up, provisioning or the CLI: never shed.
    pub async fn hash_internal(
        &self,
        password: String,
        scheme: PasswordHashScheme,
    ) -> Result<StoredPassword, HashError> {
        self.submit(Admission::Always, move |ws| {
            password::hash_with(&password, scheme, ws)
        })
        .await
    }

    /// Checks a password against a stored hash (either format), recording how long the work
    /// took on its worker.
    pub async fn verify(
        &self,
        password: String,
        stored: String,
        salt: String,
    ) -> Result<bool, HashError> {
        self.submit(
            Admission::Shed,
            self.counted(
                self.timed(move |ws| password::verify_with(&password, &stored, &salt, ws)),
            ),
        )
        .await
    }

    /// Like [`Hasher::verify`] for start-up and provisioning: never shed, not timed.
    pub async fn verify_internal(
        &self,
        password: String,
        stored: String,
        salt: String,
    ) -> Result<bool, HashError> {
        self.submit(
            Admission::Always,
            self.counted(move |ws| password::verify_with(&password, &stored, &salt, ws)),
        )
        .await
    }

    /// Spends a real verification on a login that does not exist, so that it cannot be told
    /// from a wrong password (by time, or by a 503 under load).
    pub async fn verify_dummy(&self, password: String) -> Result<(), HashError> {
        self.submit(
            Admission::Shed,
            self.counted(self.timed(move |ws| password::verify_dummy_with(&password, ws))),
        )
        .await
    }

    /// Answers a refused attempt (one that checks nothing) in about the time a real check
    /// would take now, without spending a hash: the recent average work of a verification, times
    /// the rounds of work queued ahead of it at this moment ([`queue_rounds`]), ±10 %. So the
    /// pause follows the load as it is, not as it was when the average was last fed (a flood of
    /// logins once left refusals many times slower than real checks for minutes). When the queue
    /// is full a real check would be shed, so this is shed too. Before any check has been timed,
    /// one dummy verification is spent to learn the time.
    pub async fn pause_like_verify(&self) -> Result<(), HashError> {
        if self.is_full() {
            return Err(HashError::Overloaded);
        }
        let rounds = queue_rounds(self.pending.load(Ordering::Acquire), self.workers);
        let jitter = rand::thread_rng().gen_range(0.9..1.1) * rounds;
        match self.timing.delay(jitter) {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            None => self.verify_dummy(String::new()).await,
        }
    }
}

/// How many verification times a job submitted now would take to finish with `pending` jobs
/// already accepted on `workers` workers: its own, plus one for each full round of the jobs
/// waiting ahead of it.
fn queue_rounds(pending: usize, workers: usize) -> f64 {
    let workers = workers.max(1);
    let waiting_ahead = (pending + 1).saturating_sub(workers);
    1.0 + (waiting_ahead.div_ceil(workers)) as f64
}

/// A moving average of recent verification work times (each new sample weighs 1/8).
#[derive(Default)]
struct VerifyTiming {
    average_secs: Mutex<Option<f64>>,
}

/// A refusal never waits longer than this, whatever the recent checks took.
const MAX_REFUSAL_DELAY: Duration = Duration::from_secs(5);

impl VerifyTiming {
    fn record(&self, took: Duration) {
        let sample = took.as_secs_f64();
        let mut avg = self.average_secs.lock().unwrap_or_else(|e| e.into_inner());
        *avg = Some(match *avg {
            None => sample,
            Some(a) => a + (sample - a) / 8.0,
        });
    }

    /// The average scaled by `jitter`, capped; `None` before the first sample.
    fn delay(&self, jitter: f64) -> Option<Duration> {
        let avg = (*self.average_secs.lock().unwrap_or_else(|e| e.into_inner()))?;
        let secs = (avg * jitter).clamp(0.0, MAX_REFUSAL_DELAY.as_secs_f64());
        Some(Duration::from_secs_f64(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[tokio::test]
    async fn argon2_passwords_verify_through_the_pool() {
        let hasher = Hasher::new(2, 8);
        let stored = hasher
            .hash("s3cret".into(), PasswordHashScheme::Argon2id)
            .await
            .unwrap();
        assert!(stored.hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let check = |pw: &str| hasher.verify(pw.into(), stored.hash.clone(), stored.salt.clone());
        assert!(check("s3cret").await.unwrap());
        assert!(!check("s3cret!").await.unwrap());
        // The same worker memory serves the next, different password.
        assert!(check("s3cret").await.unwrap());
        assert_eq!(hasher.verifications(), 3);
        hasher.verify_dummy("x".into()).await.unwrap();
        // Hashing a new password is not a verification.
        hasher
            .hash("other".into(), PasswordHashScheme::Argon2id)
            .await
            .unwrap();
        assert_eq!(hasher.verifications(), 4);
    }

    #[tokio::test]
    async fn pbkdf2_passwords_verify_through_the_pool() {
        let hasher = Hasher::new(1, 8);
        let stored = hasher
            .hash("admin".into(), PasswordHashScheme::Pbkdf2)
            .await
            .unwrap();
        assert_eq!(stored.hash.len(), 100);
        let ok = hasher
            .verify("admin".into(), stored.hash.clone(), stored.salt.clone())
            .await
            .unwrap();
        let wrong = hasher
            .verify("admin2".into(), stored.hash, stored.salt)
            .await
            .unwrap();
        assert!(ok && !wrong);
    }

    #[tokio::test]
    async fn a_full_queue_sheds_requests_but_not_internal_jobs() {
        let hasher = Hasher::new(1, 1);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        // Occupies the only worker until released.
        let busy = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .run(move |_| {
                        let _ = started_tx.send(());
                        let _ = release_rx.recv();
                    })
                    .await
            }
        });
        started_rx.await.unwrap();
        // One job may wait.
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.run(|_| 1).await }
        });
        while hasher.pending.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(hasher.is_full());
        assert!(matches!(
            hasher.run(|_| 2).await,
            Err(HashError::Overloaded)
        ));
        assert!(matches!(
            hasher.pause_like_verify().await,
            Err(HashError::Overloaded)
        ));
        // Start-up and provisioning work is queued all the same.
        let internal = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .hash_internal("pw".into(), PasswordHashScheme::Pbkdf2)
                    .await
            }
        });
        release_tx.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 1);
        assert!(internal.await.unwrap().is_ok());
        // Once drained, requests are accepted again.
        assert_eq!(hasher.run(|_| 3).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn no_more_jobs_run_at_once_than_there_are_workers() {
        let hasher = Hasher::new(3, 100);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for _ in 0..40 {
            let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
            jobs.push(tokio::spawn(async move {
                hasher
                    .run(move |_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }));
        }
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=3).contains(&most), "{most} jobs ran at once");
        assert_eq!(hasher.pending.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let hasher = Hasher::new(1, 4);
        let ran = Arc::new(AtomicBool::new(false));
        let failed = hasher.run(|_| -> () { panic!("boom") }).await;
        assert!(matches!(failed, Err(HashError::Failed)));
        let r = ran.clone();
        hasher
            .run(move |_| r.store(true, Ordering::SeqCst))
            .await
            .unwrap();
        assert!(ran.load(Ordering::SeqCst));
        assert_eq!(hasher.pending.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_refusal_delay_follows_recent_verification_times() {
        let timing = VerifyTiming::default();
        let ms = |jitter: f64| {
            timing
                .delay(jitter)
                .map(|d| (d.as_secs_f64() * 1e3).round())
        };
        assert_eq!(ms(1.0), None);
        timing.record(Duration::from_millis(40));
        assert_eq!(ms(1.0), Some(40.0));
        assert_eq!(ms(0.5), Some(20.0));
        // The average moves toward new samples, 1/8 at a time.
        timing.record(Duration::from_millis(120));
        assert_eq!(ms(1.0), Some(50.0));
        for _ in 0..100 {
            timing.record(Duration::from_millis(120));
        }
        assert_eq!(ms(1.0), Some(120.0));
        // Never longer than the cap.
        timing.record(Duration::from_secs(3600));
        assert_eq!(timing.delay(1.0), Some(MAX_REFUSAL_DELAY));
    }

    /// A refusal waits as a real check would now: one round of work with a worker free, one
    /// more per full round of jobs queued ahead — and back to one as soon as the queue empties.
    #[test]
    fn the_refusal_pause_counts_the_work_queued_ahead_now() {
        assert_eq!(queue_rounds(0, 2), 1.0);
        assert_eq!(queue_rounds(1, 2), 1.0);
        // Both workers busy: wait for one of them.
        assert_eq!(queue_rounds(2, 2), 2.0);
        assert_eq!(queue_rounds(3, 2), 2.0);
        assert_eq!(queue_rounds(4, 2), 3.0);
        assert_eq!(queue_rounds(5, 1), 6.0);
        assert_eq!(queue_rounds(0, 0), 1.0);
    }

    /// What is recorded is the work on the worker, not the wait in the queue: a check that
    /// waited behind a job holding the only worker for 3 s records far less than that.
    #[tokio::test]
    async fn verification_time_is_measured_on_the_worker() {
        const HELD: Duration = Duration::from_secs(3);
        let hasher = Hasher::new(1, 16);
        let stored = hasher
            .hash("pw".into(), PasswordHashScheme::Pbkdf2)
            .await
            .unwrap();
        let (release, held) = mpsc::channel::<()>();
        let blocker = hasher.run(move |_| held.recv().ok());
        let check = hasher.verify("pw".into(), stored.hash.clone(), stored.salt.clone());
        let releaser = async {
            tokio::time::sleep(HELD).await;
            release.send(()).unwrap();
        };
        let (blocked, checked, ()) = tokio::join!(blocker, check, releaser);
        blocked.unwrap();
        assert!(checked.unwrap());
        let recorded = hasher.timing.delay(1.0).unwrap();
        assert!(recorded < HELD / 2, "recorded {recorded:?}, held {HELD:?}");
    }
}
