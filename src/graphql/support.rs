//! Support requests: customers ask for guidance, the back office plans an appointment.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entities::support_request;

use super::{
    ContextExt,
    account::{Company, User},
    ids::{NodeKind, encode},
    promised,
};
use crate::{
    auth::Action,
    loaders::{CompanyById, UserById},
    store::{self, Scope},
    support::{self, SupportAsk},
};

/// The newest requests `supportRequests` lists.
const SUPPORT_REQUESTS_SHOWN: u64 = 200;

/// A customer's request for guidance.
pub struct SupportRequest(pub support_request::Model);

/// A customer's request for guidance; the back office contacts them to plan an appointment.
#[Object]
impl SupportRequest {
    /// Global ID, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode(NodeKind::SupportRequest, self.0.id)
    }

    /// What it is about, in the customer's words.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The question, in the customer's words.
    async fn message(&self) -> &str {
        &self.0.message
    }

    /// When the customer would like to be contacted, in their words; null when not given.
    async fn preferred_times(&self) -> Option<&str> {
        self.0.preferred_times.as_deref()
    }

    /// When it was asked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who asked: contact them.
    async fn requested_by(&self, ctx: &Context<'_>) -> Result<User> {
        let user = ctx.loader()?.load_one(UserById(self.0.user_id)).await?;
        Ok(User(promised(user, "user", self.0.user_id)?))
    }

    /// Their company.
    async fn company(&self, ctx: &Context<'_>) -> Result<Company> {
        let company = ctx
            .loader()?
            .load_one(CompanyById(self.0.company_id))
            .await?;
        Ok(Company(promised(company, "company", self.0.company_id)?))
    }
}

/// Reading support requests.
#[derive(Default)]
pub struct SupportQuery;

#[Object]
impl SupportQuery {
    /// Back office only: the newest 200 requests, newest first.
    async fn support_requests(&self, ctx: &Context<'_>) -> Result<Vec<SupportRequest>> {
        ctx.viewer()?.require(Action::BackOffice)?;
        let requests = store::support::newest(
            &ctx.services()?.db,
            Scope::Everything,
            SUPPORT_REQUESTS_SHOWN,
        )
        .await?;
        Ok(requests.into_iter().map(SupportRequest).collect())
    }
}

/// Asking for guidance.
#[derive(Default)]
pub struct SupportMutation;

#[Object]
impl SupportMutation {
    /// Ask the back office for guidance; they contact you to plan an appointment.
    async fn request_support(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What it is about: one line, 1 to 200 characters.")] subject: String,
        #[graphql(desc = "The question: 1 to 10,000 characters, several lines allowed.")]
        message: String,
        #[graphql(
            desc = "When you would like to be contacted, in your words (one line, at \
                          most 500 characters); null: any time."
        )]
        preferred_times: Option<String>,
    ) -> Result<SupportRequest> {
        let viewer = ctx.viewer()?;
        viewer.require_write(Action::RequestSupport)?;
        let services = ctx.services()?;
        let ask = SupportAsk {
            subject: &subject,
            message: &message,
            preferred_times: preferred_times.as_deref(),
        };
        let stored = support::request(
            &services.db,
            viewer,
            &services.support_email,
            ask,
            services.clock.now(),
        )
        .await?;
        services.mailer.wake();
        Ok(SupportRequest(stored))
    }
}
