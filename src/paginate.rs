//! One cursor paginator for every list operation of both APIs.
//!
//! A list request (the generated builder, with its filters set) becomes a stream of pages or of
//! items. Every page repeats the builder's filters, only the cursor changes. The next page is
//! requested as soon as the current one arrives, and its download advances each time the
//! stream is polled, so a consumer that works on items meanwhile does not wait for the network
//! afterwards. A server that repeats a cursor, or says there is more without a cursor, ends the
//! stream with an error instead of looping; any error names the cursor to resume from.

use std::{
    collections::{HashSet, VecDeque},
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::Stream;

use crate::{Error, ErrorKind};

/// What a page says about the rest of its list.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Continuation {
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// HyperRep's explicit flag; HockeyStack has none.
    pub has_more: Option<bool>,
}

/// A list request that can be continued page after page: every list builder of both APIs.
/// Only the crate implements it.
///
/// The streams hold the request (and so borrow the client it came from); they are `Send`, so
/// a task that owns a client can list inside `tokio::spawn`.
///
/// ```no_run
/// # #[cfg(feature = "hockeystack")]
/// # async fn run(client: revenue_agents::hockeystack::Client) -> Result<(), revenue_agents::Error> {
/// use futures_util::TryStreamExt;
/// use revenue_agents::Paginated;
///
/// let mut tasks = client.list_tasks().items();
/// while let Some(task) = tasks.try_next().await? {
///     println!("{} {}", task.task_id, task.status);
/// }
/// # Ok(()) }
/// ```
pub trait Paginated: Clone + Send + Sized + sealed::Sealed {
    /// One page as the API returns it.
    #[doc(hidden)]
    type Page: Send;
    /// One element of a page.
    type Item: Send;
    /// The request in flight. An associated type rather than a boxed future with the trait's
    /// own lifetime: that keeps the streams `Send` inside `tokio::spawn`, where the compiler
    /// otherwise cannot prove it for every lifetime.
    #[doc(hidden)]
    type Fetch: Future<Output = Result<Self::Page, Error>> + Send + Unpin;

    /// The same request, asking for the page at `cursor`.
    #[doc(hidden)]
    fn with_cursor(self, cursor: String) -> Self;
    /// Sends the request.
    #[doc(hidden)]
    fn fetch(self) -> Self::Fetch;
    /// A page's items and where the list goes on.
    #[doc(hidden)]
    fn split(page: Self::Page) -> (Vec<Self::Item>, Continuation);

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
        Items {
            pages: Pages::new(self, None),
            buffer: VecDeque::new(),
            handed_out: 0,
        }
    }

    /// The list as a stream of items, starting at a saved cursor; see
    /// [`pages_from`](Self::pages_from).
    fn items_from(self, cursor: impl Into<String>) -> Items<Self> {
        Items {
            pages: Pages::new(self, Some(cursor.into())),
            buffer: VecDeque::new(),
            handed_out: 0,
        }
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

/// A page request's outcome, with the cursor that asked for it.
type Fetched<P> = (Option<String>, Result<P, Error>);

/// A stream of pages; see [`Paginated::pages`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages<R: Paginated> {
    template: R,
    /// The cursor of the first request, until it is sent.
    start: Option<Option<String>>,
    in_flight: Option<(Option<String>, R::Fetch)>,
    /// A finished prefetch waiting to be handed out.
    ready: Option<Fetched<R::Page>>,
    /// An error to report after the page that revealed it.
    deferred: Option<Error>,
    seen: HashSet<String>,
    done: bool,
}

impl<R: Paginated> Pages<R> {
    fn new(template: R, start: Option<String>) -> Self {
        Self {
            template,
            start: Some(start),
            in_flight: None,
            ready: None,
            deferred: None,
            seen: HashSet::new(),
            done: false,
        }
    }

    fn send(&mut self, cursor: Option<String>) {
        let request = match &cursor {
            Some(c) => self.template.clone().with_cursor(c.clone()),
            None => self.template.clone(),
        };
        self.in_flight = Some((cursor, request.fetch()));
    }

    /// Advances the prefetch without waiting for it.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if let Some((cursor, fetch)) = &mut self.in_flight
            && let Poll::Ready(result) = Pin::new(fetch).poll(cx)
        {
            self.ready = Some((cursor.take(), result));
            self.in_flight = None;
        }
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Page<R::Item>, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(error) = self.deferred.take() {
            self.done = true;
            return Poll::Ready(Some(Err(error)));
        }
        if let Some(start) = self.start.take() {
            if let Some(cursor) = &start {
                self.seen.insert(cursor.clone());
            }
            self.send(start);
        }
        self.drive(cx);
        let Some((cursor, result)) = self.ready.take() else {
            return Poll::Pending;
        };
        let page = match result {
            Ok(page) => page,
            Err(error) => {
                self.done = true;
                return Poll::Ready(Some(Err(error.with_resume_cursor(cursor))));
            }
        };
        let (items, continuation) = R::split(page);
        let next = match (continuation.next_cursor, continuation.has_more) {
            (_, Some(false)) | (None, None) => None,
            (None, Some(true)) => {
                self.deferred =
                    Some(Error::new(ErrorKind::MissingCursor).with_resume_cursor(cursor.clone()));
                None
            }
            (Some(next), _) => {
                if cursor.as_deref() == Some(next.as_str()) || !self.seen.insert(next.clone()) {
                    self.deferred = Some(
                        Error::new(ErrorKind::RepeatedCursor { cursor: next })
                            .with_resume_cursor(cursor.clone()),
                    );
                    None
                } else {
                    Some(next)
                }
            }
        };
        match &next {
            Some(next) => {
                // Prefetch: the next request leaves now, while the caller works on this page.
                self.send(Some(next.clone()));
                self.drive(cx);
            }
            None if self.deferred.is_none() => self.done = true,
            None => {}
        }
        Poll::Ready(Some(Ok(Page {
            items,
            cursor,
            next_cursor: next,
        })))
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
    buffer: VecDeque<R::Item>,
    handed_out: usize,
}

/// How often (in items) the item stream advances the prefetch. Every item costs measurably
/// more (a poll of the HTTP future each time) and gains nothing: the connection task receives
/// the answer meanwhile.
const DRIVE_EVERY: usize = 32;

impl<R: Paginated> Stream for Items<R> {
    type Item = Result<R::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffer.pop_front() {
                this.handed_out = this.handed_out.wrapping_add(1);
                if this.handed_out.is_multiple_of(DRIVE_EVERY) {
                    this.pages.drive(cx);
                }
                return Poll::Ready(Some(Ok(item)));
            }
            match this.pages.poll_page(cx) {
                Poll::Ready(Some(Ok(page))) => this.buffer.extend(page.items),
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
            impl $crate::paginate::sealed::Sealed for builder::$builder<'_> {}

            impl<'a> $crate::Paginated for builder::$builder<'a> {
                type Page = types::$page;
                type Item = types::$item;
                type Fetch = futures_core::future::BoxFuture<'a, Result<types::$page, $crate::Error>>;

                fn with_cursor(self, cursor: String) -> Self {
                    self.$cursor(cursor)
                }

                fn fetch(self) -> Self::Fetch {
                    Box::pin(async move { Ok(self.send().await?.into_inner()) })
                }

                fn split($p: types::$page) -> (Vec<types::$item>, $crate::paginate::Continuation) {
                    $split
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
        // Page "b" is already requested while the caller holds the first page.
        assert_eq!(*list.requested.lock().unwrap(), [None, Some("b".into())]);
    }

    #[tokio::test]
    async fn nothing_is_requested_until_the_stream_is_polled() {
        let list = fake(vec![(None, Ok((vec![], None, None)))]);
        let pages = list.clone().pages();
        drop(pages);
        assert!(list.requested.lock().unwrap().is_empty());
    }
}
