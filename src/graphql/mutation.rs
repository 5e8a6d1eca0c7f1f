//! The mutation root, merged from one object per area so that each area stays in its file.

use async_graphql::MergedObject;

use super::{
    account::AccountMutation, api_token::ApiTokenMutation, back_office::BackOfficeMutation,
    session::SessionMutation, support::SupportMutation, webhook::WebhookMutation,
};

/// Every write of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    SessionMutation,
    AccountMutation,
    ApiTokenMutation,
    SupportMutation,
    BackOfficeMutation,
    WebhookMutation,
);
