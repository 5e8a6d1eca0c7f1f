//! GraphQL over `GET` runs queries only: a link, a prefetch or a cache must never change
//! anything. The check needs the parsed document, which a persisted query only has once the
//! persisted-query extension has run, so it is an extension too.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, OperationType},
};

/// Request data of a request that came as `GET`: the operation it asks for, and whether it
/// was refused for not being a query.
#[derive(Default)]
pub struct OverGet {
    pub operation_name: Option<String>,
    pub refused: Arc<AtomicBool>,
}

/// Refuses a mutation or subscription in a request that carries [`OverGet`].
pub struct QueriesOnlyOverGet;

impl ExtensionFactory for QueriesOnlyOverGet {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueriesOnlyOverGet)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for QueriesOnlyOverGet {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let Some(over_get) = ctx.data_opt::<OverGet>() else {
            return Ok(document);
        };
        match super::operation::chosen(&document, over_get.operation_name.as_deref())
            .map(|operation| operation.node.ty)
        {
            Some(OperationType::Mutation | OperationType::Subscription) => {
                over_get.refused.store(true, Ordering::Relaxed);
                Err(ServerError::new(
                    "only queries run over GET: send mutations with POST",
                    None,
                ))
            }
            // An operation that cannot be chosen fails later with the reason.
            Some(OperationType::Query) | None => Ok(document),
        }
    }
}
