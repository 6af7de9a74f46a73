//! One cursor paginator for every list operation of both APIs.
//!
//! A list request (the generated builder, with its filters set) becomes a stream of pages or of
//! items. Every page repeats the builder's filters, only the cursor changes. The streams own
//! their request (and through it a handle on the client), so they are `Send + 'static`: they
//! can be returned, stored, and moved into `tokio::spawn`.
//!
//! By default the next page is fetched on a background task while the caller works on the
//! current one (one page ahead, [`Pages::prefetch`] to change or turn off), so a consumer that
//! spends time on each page does not also wait for the network. The order is the server's,
//! and nothing is lost or repeated when an error, a cancel or a drop comes mid-way: pages are
//! handed out in order, an error comes after the pages before it, and dropping the stream stops
//! the background task. A server that repeats a cursor, or says there is more without a cursor,
//! ends the stream with an error instead of looping; any error names the cursor to resume from.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::{Stream, future::BoxFuture};

use crate::error::{Error, ErrorKind};

/// What a page says about the rest of its list.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Continuation {
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// HyperRep's explicit flag; HockeyStack has none.
    pub has_more: Option<bool>,
}

impl Continuation {
    /// Reads a page's cursor and flag, whether the spec makes them optional or required (the
    /// typed paginators are generated from the operation model, which names the fields only).
    #[doc(hidden)]
    pub fn read(next_cursor: impl Into<Option<String>>, has_more: impl Into<Option<bool>>) -> Self {
        Self {
            next_cursor: next_cursor.into(),
            has_more: has_more.into(),
        }
    }
}

/// A list request that can be continued page after page: every list builder of both APIs.
/// Only the crate implements it.
///
/// The streams own the request, so they can outlive the code that made them:
///
/// ```no_run
/// # #[cfg(feature = "hockeystack")]
/// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
/// use futures_util::TryStreamExt;
/// use revenue_agents::Paginated;
///
/// let tasks = client.list_tasks().limit(100).items();
/// let count = tokio::spawn(async move {
///     let mut tasks = tasks;
///     let mut n = 0;
///     while let Some(task) = tasks.try_next().await? {
///         println!("{} {}", task.task_id, task.status);
///         n += 1;
///     }
///     Ok::<_, revenue_agents::Error>(n)
/// });
/// println!("{} tasks", count.await.expect("the task ran")?);
/// # Ok(()) }
/// ```
pub trait Paginated: Clone + Send + Sized + 'static + sealed::Sealed {
    /// One page as the API returns it.
    #[doc(hidden)]
    type Page: Send + 'static;
    /// One element of a page.
    type Item: Send + 'static;
    /// The request in flight. An associated type rather than a boxed future with the trait's
    /// own lifetime: that keeps the streams `Send` inside `tokio::spawn`, where the compiler
    /// otherwise cannot prove it for every lifetime.
    #[doc(hidden)]
    type Fetch: Future<Output = Result<Self::Page, Error>> + Send + Unpin + 'static;

    /// The same request, asking for the page at `cursor`.
    #[doc(hidden)]
    fn with_cursor(self, cursor: String) -> Self;
    /// Sends the request.
    #[doc(hidden)]
    fn fetch(self) -> Self::Fetch;
    /// A page's items and where the list goes on.
    #[doc(hidden)]
    fn split(page: Self::Page) -> (Vec<Self::Item>, Continuation);
    /// An error of the walk itself (a repeated or missing cursor), as the caller may see it:
    /// the client blanks its credential out of the server's cursors.
    #[doc(hidden)]
    fn guard(&self, error: Error) -> Error {
        error
    }

    /// The list as a stream of pages.
    fn pages(self) -> Pages<Self> {
        Pages::new(self, None)
    }

    /// The list as a stream of pages, starting at a cursor saved from an earlier page (or
    /// from an error's [`resume_cursor`](Error::resume_cursor)).
    fn pages_from(self, cursor: impl Into<String>) -> Pages<Self> {
        Pages::new(self, Some(cursor.into()))
    }

    /// The list as a stream of items, page after page.
    fn items(self) -> Items<Self> {
        Items::new(Pages::new(self, None))
    }

    /// The list as a stream of items, starting at a saved cursor; see
    /// [`pages_from`](Self::pages_from).
    fn items_from(self, cursor: impl Into<String>) -> Items<Self> {
        Items::new(Pages::new(self, Some(cursor.into())))
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// The cursor that fetched this page (`None` for the first one).
    pub cursor: Option<String>,
    /// The cursor of the next page; `None` on the last one. Save it to resume later.
    pub next_cursor: Option<String>,
}

pub(crate) mod sealed {
    /// Keeps [`Paginated`](super::Paginated) implemented by the crate's list requests only.
    pub trait Sealed {}
}

/// How many pages the streams fetch ahead of the caller unless told otherwise.
pub const DEFAULT_PREFETCH: usize = 1;

/// The most pages a stream fetches ahead, whatever [`Pages::prefetch`] asks for: pages held
/// ahead are memory, and past a few of them a consumer gains nothing.
pub const MAX_PREFETCH: usize = 16;

/// Walks a list page by page: sends each request, checks what the page says about the rest,
/// and catches a server that leads it in a loop.
struct Walker<R: Paginated> {
    template: R,
    /// The cursor of the next request (`Some(None)`: the first page); `None` when finished.
    next: Option<Option<String>>,
    /// An error to report after the page that revealed it.
    deferred: Option<Error>,
    seen: SeenCursors,
}

/// The cursors a walk has met, in memory that does not grow with the list: the last
/// [`SeenCursors::RECENT`] cursors exactly (as 64-bit hashes), so a loop back to any of them is
/// caught before a page is repeated, and one checkpoint cursor moved at doubling intervals
/// (Brent's method), so that a longer loop is still caught after at most twice its length.
struct SeenCursors {
    hasher: std::collections::hash_map::RandomState,
    /// The last hashes met, the oldest overwritten first: allocated whole at the start, so that
    /// a stream's memory is the same on its first page and its millionth.
    recent: Box<[u64]>,
    filled: usize,
    next_slot: usize,
    checkpoint: Option<u64>,
    since_checkpoint: usize,
    interval: usize,
}

impl SeenCursors {
    const RECENT: usize = 1024;

    fn new() -> Self {
        Self {
            hasher: Default::default(),
            recent: vec![0; Self::RECENT].into_boxed_slice(),
            filled: 0,
            next_slot: 0,
            checkpoint: None,
            since_checkpoint: 0,
            interval: 1,
        }
    }

    /// Records a cursor; `false` if it was met before (a loop). A scan of 1024 hashes costs
    /// well under a microsecond, nothing beside a page's fetch.
    fn insert(&mut self, cursor: &str) -> bool {
        use std::hash::BuildHasher;
        let hash = self.hasher.hash_one(cursor);
        if self.recent[..self.filled].contains(&hash) || self.checkpoint == Some(hash) {
            return false;
        }
        self.recent[self.next_slot] = hash;
        self.next_slot = (self.next_slot + 1) % Self::RECENT;
        self.filled = (self.filled + 1).min(Self::RECENT);
        self.since_checkpoint += 1;
        if self.since_checkpoint >= self.interval {
            self.checkpoint = Some(hash);
            self.since_checkpoint = 0;
            self.interval *= 2;
        }
        true
    }
}

type PageResult<T> = Result<Page<T>, Error>;

impl<R: Paginated> Walker<R> {
    fn new(template: R, start: Option<String>) -> Self {
        let mut seen = SeenCursors::new();
        if let Some(cursor) = &start {
            seen.insert(cursor);
        }
        Self {
            template,
            next: Some(start),
            deferred: None,
            seen,
        }
    }

    /// The next page, or `None` once the list (or an error) has ended it.
    async fn next_page(&mut self) -> Option<PageResult<R::Item>> {
        if let Some(error) = self.deferred.take() {
            self.next = None;
            return Some(Err(error));
        }
        let cursor = self.next.take()?;
        let request = match &cursor {
            Some(c) => self.template.clone().with_cursor(c.clone()),
            None => self.template.clone(),
        };
        let page = match request.fetch().await {
            Ok(page) => page,
            Err(error) => {
                return Some(Err(self.template.guard(error.with_resume_cursor(cursor))));
            }
        };
        let (items, continuation) = R::split(page);
        let next = match (continuation.next_cursor, continuation.has_more) {
            (_, Some(false)) | (None, None) => None,
            (None, Some(true)) => {
                self.deferred = Some(self.template.guard(
                    Error::new(ErrorKind::MissingCursor).with_resume_cursor(cursor.clone()),
                ));
                None
            }
            (Some(next), _) => {
                if cursor.as_deref() == Some(next.as_str()) || !self.seen.insert(&next) {
                    self.deferred = Some(
                        self.template.guard(
                            Error::new(ErrorKind::RepeatedCursor { cursor: next })
                                .with_resume_cursor(cursor.clone()),
                        ),
                    );
                    None
                } else {
                    Some(next)
                }
            }
        };
        if let Some(next) = &next {
            self.next = Some(Some(next.clone()));
        }
        Some(Ok(Page {
            items,
            cursor,
            next_cursor: next,
        }))
    }

    /// Runs on its own task, at most `depth` pages ahead of the consumer: a slot in the channel
    /// is reserved before each request, so pages fetched or in flight never exceed it. Ends
    /// after the last page, after an error, or when the consumer is gone.
    async fn run_ahead(mut self, pages: tokio::sync::mpsc::Sender<PageResult<R::Item>>) {
        loop {
            let Ok(slot) = pages.reserve().await else {
                return; // the stream was dropped
            };
            match self.next_page().await {
                Some(page) => slot.send(page),
                None => return,
            }
        }
    }
}

/// One page fetched on demand; the walker comes back with it.
type OnDemandFetch<R> = BoxFuture<'static, (Walker<R>, Option<PageResult<<R as Paginated>::Item>>)>;

/// Where a page stream gets its pages from.
enum Source<R: Paginated> {
    /// Not polled yet: nothing has been sent.
    Idle(Walker<R>, usize),
    /// Prefetch off (or no Tokio runtime to run it on): each page is fetched when asked for.
    OnDemand(OnDemandFetch<R>),
    /// Between pages when fetching on demand.
    Waiting(Walker<R>),
    /// A background task fetching ahead; dropping the stream aborts it.
    Ahead {
        pages: tokio::sync::mpsc::Receiver<PageResult<R::Item>>,
        task: AbortOnDrop,
    },
    Finished,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A stream of pages; see [`Paginated::pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages<R: Paginated> {
    source: Source<R>,
    /// An error (or the end) has been handed out: nothing follows.
    done: bool,
}

impl<R: Paginated> Pages<R> {
    fn new(template: R, start: Option<String>) -> Self {
        Self {
            source: Source::Idle(Walker::new(template, start), DEFAULT_PREFETCH),
            done: false,
        }
    }

    /// How many pages to fetch ahead of the caller, on a background task: `1` (the default)
    /// fetches page N+1 while the caller works on page N; `0` fetches each page only when it is
    /// asked for. Takes effect if set before the stream is first polled. Without a Tokio runtime
    /// the stream fetches on demand. A depth above [`MAX_PREFETCH`] is taken as that.
    pub fn prefetch(mut self, depth: usize) -> Self {
        if let Source::Idle(_, d) = &mut self.source {
            *d = depth.min(MAX_PREFETCH);
        }
        self
    }

    fn fetch_on_demand(mut walker: Walker<R>) -> Source<R> {
        Source::OnDemand(Box::pin(async move {
            let page = walker.next_page().await;
            (walker, page)
        }))
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<PageResult<R::Item>>> {
        if self.done {
            return Poll::Ready(None);
        }
        loop {
            match std::mem::replace(&mut self.source, Source::Finished) {
                Source::Idle(walker, depth) => {
                    self.source = match tokio::runtime::Handle::try_current() {
                        Ok(runtime) if depth > 0 => {
                            let (sender, pages) = tokio::sync::mpsc::channel(depth);
                            // Pages fetched ahead are the call's too: their pauses reach
                            // the call's observer.
                            let observer = crate::notice::current();
                            let task = runtime
                                .spawn(crate::notice::within(observer, walker.run_ahead(sender)));
                            Source::Ahead {
                                pages,
                                task: AbortOnDrop(task),
                            }
                        }
                        _ => Self::fetch_on_demand(walker),
                    };
                }
                Source::Waiting(walker) => self.source = Self::fetch_on_demand(walker),
                Source::OnDemand(mut fetch) => {
                    return match fetch.as_mut().poll(cx) {
                        Poll::Pending => {
                            self.source = Source::OnDemand(fetch);
                            Poll::Pending
                        }
                        Poll::Ready((walker, page)) => {
                            self.source = Source::Waiting(walker);
                            Poll::Ready(self.hand_out(page))
                        }
                    };
                }
                Source::Ahead { mut pages, task } => {
                    let polled = pages.poll_recv(cx);
                    self.source = Source::Ahead { pages, task };
                    return polled.map(|page| self.hand_out(page));
                }
                Source::Finished => return Poll::Ready(None),
            }
        }
    }

    fn hand_out(&mut self, page: Option<PageResult<R::Item>>) -> Option<PageResult<R::Item>> {
        match &page {
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                self.done = true;
                self.source = Source::Finished;
            }
        }
        page
    }
}

impl<R: Paginated> Stream for Pages<R> {
    type Item = Result<Page<R::Item>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Nothing in `Pages` is structurally pinned: the futures are boxed.
        self.get_mut().poll_page(cx)
    }
}

impl<R: Paginated> Unpin for Pages<R> {}

/// A stream of items; see [`Paginated::items`].
#[must_use = "streams do nothing unless polled"]
pub struct Items<R: Paginated> {
    pages: Pages<R>,
    /// The page being handed out, as the server's own vector: no second buffer.
    current: std::vec::IntoIter<R::Item>,
}

impl<R: Paginated> Items<R> {
    fn new(pages: Pages<R>) -> Self {
        Self {
            pages,
            current: Vec::new().into_iter(),
        }
    }

    /// How many pages to fetch ahead of the caller; see [`Pages::prefetch`].
    pub fn prefetch(mut self, depth: usize) -> Self {
        self.pages = self.pages.prefetch(depth);
        self
    }
}

impl<R: Paginated> Stream for Items<R> {
    type Item = Result<R::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.current.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            // The spent page's memory goes before the next page is waited for.
            this.current = Vec::new().into_iter();
            match this.pages.poll_page(cx) {
                Poll::Ready(Some(Ok(page))) => this.current = page.items.into_iter(),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<R: Paginated> Unpin for Items<R> {}

/// Implements [`Paginated`] for generated list builders: `builder type => page type, item
/// type, cursor setter, |page| (items, continuation)`.
macro_rules! paginated {
    ($( $builder:ident => $page:ident, $item:ident, $cursor:ident, |$p:ident| $split:expr; )+) => {
        $(
            impl $crate::paginate::sealed::Sealed for builder::$builder {}

            impl $crate::paginate::Paginated for builder::$builder {
                type Page = types::$page;
                type Item = types::$item;
                type Fetch = futures_core::future::BoxFuture<'static, Result<types::$page, $crate::error::Error>>;

                fn with_cursor(self, cursor: String) -> Self {
                    self.$cursor(cursor)
                }

                fn fetch(self) -> Self::Fetch {
                    Box::pin(async move { Ok(self.send().await?.into_inner()) })
                }

                fn split($p: types::$page) -> (Vec<types::$item>, $crate::paginate::Continuation) {
                    $split
                }

                fn guard(&self, error: $crate::error::Error) -> $crate::error::Error {
                    progenitor_client::ClientInfo::inner(&self.client).guard(error)
                }
            }
        )+
    };
}

pub(crate) use paginated;

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures_util::{StreamExt, TryStreamExt};

    use super::*;

    /// A fake list: each cursor maps to (items, next_cursor, has_more), or to an error status.
    #[derive(Clone)]
    struct Fake {
        cursor: Option<String>,
        pages: Arc<Script>,
        requested: Arc<Mutex<Vec<Option<String>>>>,
    }

    impl sealed::Sealed for Fake {}

    impl Paginated for Fake {
        type Page = (Vec<u32>, Continuation);
        type Item = u32;
        type Fetch = futures_core::future::BoxFuture<'static, Result<Self::Page, Error>>;

        fn with_cursor(mut self, cursor: String) -> Self {
            self.cursor = Some(cursor);
            self
        }

        fn fetch(self) -> Self::Fetch {
            Box::pin(async move {
                self.requested.lock().unwrap().push(self.cursor.clone());
                let (_, answer) = self
                    .pages
                    .iter()
                    .find(|(c, _)| c.map(str::to_owned) == self.cursor)
                    .expect("unknown cursor");
                match answer {
                    Ok((items, next, has_more)) => Ok((
                        items.clone(),
                        Continuation {
                            next_cursor: next.map(str::to_owned),
                            has_more: *has_more,
                        },
                    )),
                    Err(status) => Err(Error::from_status(
                        "X",
                        *status,
                        &Default::default(),
                        None,
                        false,
                    )),
                }
            })
        }

        fn split(page: Self::Page) -> (Vec<u32>, Continuation) {
            page
        }
    }

    type Script = Vec<(
        Option<&'static str>,
        Result<(Vec<u32>, Option<&'static str>, Option<bool>), u16>,
    )>;

    fn fake(pages: Script) -> Fake {
        Fake {
            cursor: None,
            pages: Arc::new(pages),
            requested: Arc::default(),
        }
    }

    #[tokio::test]
    async fn items_span_every_page_in_order() {
        let list = fake(vec![
            (None, Ok((vec![1, 2], Some("b"), None))),
            (Some("b"), Ok((vec![], Some("c"), None))),
            (Some("c"), Ok((vec![3], None, None))),
        ]);
        let items: Vec<u32> = list.clone().items().try_collect().await.unwrap();
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(
            *list.requested.lock().unwrap(),
            [None, Some("b".into()), Some("c".into())]
        );
    }

    #[tokio::test]
    async fn pages_expose_their_cursors() {
        let list = fake(vec![
            (None, Ok((vec![1], Some("b"), Some(true)))),
            (Some("b"), Ok((vec![2], None, Some(false)))),
        ]);
        let pages: Vec<Page<u32>> = list.pages().try_collect().await.unwrap();
        assert_eq!(
            (pages[0].cursor.as_deref(), pages[0].next_cursor.as_deref()),
            (None, Some("b"))
        );
        assert_eq!(
            (pages[1].cursor.as_deref(), pages[1].next_cursor.as_deref()),
            (Some("b"), None)
        );
    }

    #[tokio::test]
    async fn resuming_starts_at_the_saved_cursor() {
        let list = fake(vec![
            (None, Ok((vec![1], Some("b"), None))),
            (Some("b"), Ok((vec![2], None, None))),
        ]);
        let items: Vec<u32> = list.clone().items_from("b").try_collect().await.unwrap();
        assert_eq!(items, [2]);
        assert_eq!(*list.requested.lock().unwrap(), [Some("b".into())]);
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_stream_after_the_page_with_an_error() {
        let list = fake(vec![
            (None, Ok((vec![1], Some("b"), None))),
            (Some("b"), Ok((vec![2], Some("b"), None))),
        ]);
        let results: Vec<_> = list.items().collect().await;
        assert_eq!(results.len(), 3);
        assert_eq!(*results[1].as_ref().unwrap(), 2);
        let error = results[2].as_ref().unwrap_err();
        assert_eq!(
            error.kind(),
            &ErrorKind::RepeatedCursor { cursor: "b".into() }
        );
        assert_eq!(error.resume_cursor(), Some("b"));
    }

    #[tokio::test]
    async fn a_cycle_through_older_cursors_is_caught_too() {
        let list = fake(vec![
            (None, Ok((vec![1], Some("b"), None))),
            (Some("b"), Ok((vec![2], Some("c"), None))),
            (Some("c"), Ok((vec![3], Some("b"), None))),
        ]);
        let results: Vec<_> = list.items().collect().await;
        assert!(matches!(
            results.last().unwrap().as_ref().unwrap_err().kind(),
            ErrorKind::RepeatedCursor { .. }
        ));
        assert_eq!(results.len(), 4);
    }

    #[tokio::test]
    async fn more_without_a_cursor_is_an_error_not_an_end() {
        let list = fake(vec![(None, Ok((vec![1], None, Some(true))))]);
        let results: Vec<_> = list.items().collect().await;
        assert_eq!(*results[0].as_ref().unwrap(), 1);
        assert_eq!(
            results[1].as_ref().unwrap_err().kind(),
            &ErrorKind::MissingCursor
        );
        assert_eq!(results.len(), 2);
    }

    #[tokio::test]
    async fn an_error_on_page_three_names_the_cursor_to_resume_from() {
        let list = fake(vec![
            (None, Ok((vec![1], Some("b"), None))),
            (Some("b"), Ok((vec![2], Some("c"), None))),
            (Some("c"), Err(503)),
        ]);
        let results: Vec<_> = list.items().collect().await;
        assert_eq!(results.len(), 3);
        let error = results[2].as_ref().unwrap_err();
        assert_eq!(error.resume_cursor(), Some("c"));
        assert!(error.to_string().contains("\"c\""));
    }

    #[tokio::test]
    async fn the_next_page_is_requested_before_the_caller_asks_for_it() {
        let list = fake(vec![
            (None, Ok((vec![1, 2], Some("b"), None))),
            (Some("b"), Ok((vec![3], None, None))),
        ]);
        let mut pages = list.clone().pages();
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!(first.items, [1, 2]);
        // Page "b" is requested while the caller holds the first page, without the caller
        // polling the stream again.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(*list.requested.lock().unwrap(), [None, Some("b".into())]);
    }

    fn four_pages() -> Fake {
        fake(vec![
            (None, Ok((vec![1], Some("b"), None))),
            (Some("b"), Ok((vec![2], Some("c"), None))),
            (Some("c"), Ok((vec![3], Some("d"), None))),
            (Some("d"), Ok((vec![4], None, None))),
        ])
    }

    async fn let_background_tasks_run() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn without_prefetch_each_page_waits_for_the_caller() {
        let list = four_pages();
        let mut pages = list.clone().pages().prefetch(0);
        pages.next().await.unwrap().unwrap();
        let_background_tasks_run().await;
        assert_eq!(*list.requested.lock().unwrap(), [None]);
        let items: Vec<u32> = list
            .clone()
            .items()
            .prefetch(0)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn prefetch_stays_within_its_depth() {
        let list = four_pages();
        let mut pages = list.clone().pages().prefetch(2);
        pages.next().await.unwrap().unwrap();
        let_background_tasks_run().await;
        // The caller holds page 1; pages b and c may be fetched, d may not.
        assert_eq!(
            *list.requested.lock().unwrap(),
            [None, Some("b".into()), Some("c".into())]
        );
        let rest: Vec<Page<u32>> = pages.try_collect().await.unwrap();
        let items: Vec<u32> = rest.into_iter().flat_map(|p| p.items).collect();
        assert_eq!(items, [2, 3, 4]);
        // Nothing is requested past the last page.
        assert_eq!(list.requested.lock().unwrap().len(), 4);
    }

    /// A list whose first page answers at once and whose later pages never answer; it counts
    /// the requests started and the ones abandoned (their future dropped unfinished).
    #[derive(Clone, Default)]
    struct Stalling {
        cursor: Option<String>,
        started: Arc<std::sync::atomic::AtomicUsize>,
        abandoned: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl sealed::Sealed for Stalling {}

    /// Counts a request as abandoned when its future is dropped before it finished.
    struct Abandon(Arc<std::sync::atomic::AtomicUsize>);

    impl Drop for Abandon {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Paginated for Stalling {
        type Page = (Vec<u32>, Continuation);
        type Item = u32;
        type Fetch = futures_core::future::BoxFuture<'static, Result<Self::Page, Error>>;

        fn with_cursor(mut self, cursor: String) -> Self {
            self.cursor = Some(cursor);
            self
        }

        fn fetch(self) -> Self::Fetch {
            Box::pin(async move {
                let n = self
                    .started
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let next = Continuation {
                    next_cursor: Some(format!("page-{}", n + 2)),
                    has_more: None,
                };
                if self.cursor.is_none() {
                    return Ok((vec![1], next));
                }
                let _in_flight = Abandon(self.abandoned.clone());
                std::future::pending::<()>().await;
                unreachable!("a stalled page never answers")
            })
        }

        fn split(page: Self::Page) -> (Vec<u32>, Continuation) {
            page
        }
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_background_fetching() {
        use std::sync::atomic::Ordering::SeqCst;
        let list = Stalling::default();
        let mut items = list.clone().items().prefetch(3);
        assert_eq!(items.next().await.unwrap().unwrap(), 1);
        let_background_tasks_run().await;
        // The background task is waiting for page 2, which never comes.
        assert_eq!(list.started.load(SeqCst), 2);
        assert_eq!(list.abandoned.load(SeqCst), 0);
        drop(items);
        let_background_tasks_run().await;
        // The request in flight was dropped with the stream, not left waiting for ever.
        assert_eq!(list.abandoned.load(SeqCst), 1);
        assert_eq!(
            list.started.load(SeqCst),
            2,
            "nothing started after the drop"
        );
    }

    #[tokio::test]
    async fn an_error_comes_after_every_item_before_it_with_or_without_prefetch() {
        for depth in [0, 1, 3] {
            let list = fake(vec![
                (None, Ok((vec![1, 2], Some("b"), None))),
                (Some("b"), Ok((vec![3], Some("c"), None))),
                (Some("c"), Err(500)),
            ]);
            let results: Vec<_> = list.items().prefetch(depth).collect().await;
            let items: Vec<u32> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().copied())
                .collect();
            assert_eq!(items, [1, 2, 3], "depth {depth}");
            assert_eq!(results.len(), 4, "depth {depth}: the error ends the stream");
            assert_eq!(results[3].as_ref().unwrap_err().resume_cursor(), Some("c"));
        }
    }

    #[test]
    fn without_a_runtime_pages_are_fetched_on_demand() {
        let list = four_pages();
        let items: Vec<u32> = futures_util::future::FutureExt::now_or_never(
            list.clone().items().try_collect::<Vec<u32>>(),
        )
        .expect("the fake answers at once")
        .unwrap();
        assert_eq!(items, [1, 2, 3, 4]);
    }

    #[test]
    fn loops_are_caught_whatever_their_length_in_bounded_memory() {
        // A loop back to a recent cursor is caught at once.
        let mut seen = SeenCursors::new();
        for i in 0..10 {
            assert!(seen.insert(&format!("c{i}")));
        }
        assert!(!seen.insert("c3"));
        // A loop longer than the exact window is caught within twice its length.
        for length in [SeenCursors::RECENT + 1, 3 * SeenCursors::RECENT] {
            let mut seen = SeenCursors::new();
            let steps = (0..)
                .map(|i| format!("c{}", i % length))
                .take_while(|cursor| seen.insert(cursor))
                .count();
            assert!(steps >= length && steps <= 3 * length, "{length}: {steps}");
            assert!(seen.filled <= SeenCursors::RECENT);
        }
        // No false alarm over a long walk.
        let mut seen = SeenCursors::new();
        assert!((0..100_000).all(|i| seen.insert(&format!("page-{i}"))));
    }

    #[tokio::test]
    async fn nothing_is_requested_until_the_stream_is_polled() {
        let list = fake(vec![(None, Ok((vec![], None, None)))]);
        let pages = list.clone().pages();
        drop(pages);
        assert!(list.requested.lock().unwrap().is_empty());
    }
}
