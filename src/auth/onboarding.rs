//! Onboarding: the back office creates a customer with its administrator, administrators
//! invite and disable their colleagues, and every invitation is a single-use activation link
//! sent by mail in the same transaction.

use chrono::{DateTime, Utc};
use entities::user;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Role, Viewer, token::new_opaque_secret};
use crate::{
    config::{Limits, is_plausible_email},
    domain::{account::UserStatus, language::Language},
    error::{AppError, AppResult},
    mail::letters,
    store::{
        self,
        accounts::{self, NewUser},
        lookups, outbox,
    },
};

/// Prefix of activation tokens, so that one pasted elsewhere is recognisable.
const ACTIVATION_TOKEN_PREFIX: &str = "cpa_";

/// An invitation as the API reports it.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub user: user::Model,
    pub activation_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Who an administrator invites.
pub struct Invitee<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: Role,
    /// `None`: the inviter's language.
    pub language: Option<Language>,
}

/// What onboarding needs from the running service.
pub struct Onboarding<'a> {
    pub db: &'a DatabaseConnection,
    pub limits: &'a Limits,
    /// Base of activation links.
    pub public_url: &'a str,
}

fn required(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must have at most {max_chars} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn email(field: &str, value: &str) -> AppResult<String> {
    let value = accounts::normalise_email(value);
    if is_plausible_email(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("`{field}` is not an e-mail address"),
        ))
    }
}

fn optional_name(value: Option<&str>) -> AppResult<Option<String>> {
    value
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| required("name", name, 200))
        .transpose()
}

impl Onboarding<'_> {
    /// Issues a fresh activation link for an invited user (earlier links stop working) and
    /// queues its mail.
    async fn invite(
        &self,
        db: &impl ConnectionTrait,
        user: user::Model,
        company: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Invitation> {
        let token = new_opaque_secret(ACTIVATION_TOKEN_PREFIX);
        let expires_at = now + self.limits.activation_ttl;
        accounts::replace_activation(db, user.id, &token.hash, now, expires_at).await?;
        let activation_url = format!("{}/activate?token={}", self.public_url, token.secret);
        let letter = letters::invitation(
            Language::of_code(&user.language),
            &user.email,
            user.name.as_deref(),
            company,
            &activation_url,
            expires_at,
        );
        outbox::enqueue(db, letter, now).await?;
        Ok(Invitation {
            user,
            activation_url,
            expires_at,
        })
    }

    /// Creates the company and its INVITED administrator, and mails the activation link.
    /// Sent again while the administrator has not activated yet, it sends a fresh link.
    pub async fn create_customer(
        &self,
        company_name: &str,
        customer_number: &str,
        admin_email: &str,
        admin_name: Option<&str>,
        admin_language: Language,
        now: DateTime<Utc>,
    ) -> AppResult<Invitation> {
        let company_name = required("companyName", company_name, 200)?;
        let customer_number = required("customerNumber", customer_number, 50)?;
        let admin_email = email("adminEmail", admin_email)?;
        let admin_name = optional_name(admin_name)?;
        let txn = store::begin_write(self.db).await?;
        let existing_company = accounts::company_by_customer_number(&txn, &customer_number).await?;
        let existing_user = accounts::user_by_email(&txn, &admin_email).await?;
        let admin = match (existing_company, existing_user) {
            (Some(company), Some(admin))
                if company.name == company_name
                    && admin.company_id == Some(company.id)
                    && admin.status == UserStatus::Invited =>
            {
                admin
            }
            (Some(_), _) => {
                return Err(AppError::Conflict(format!(
                    "customer number {customer_number} already exists"
                )));
            }
            (None, Some(_)) => {
                return Err(AppError::Conflict(format!(
                    "{admin_email} already has an account"
                )));
            }
            (None, None) => {
                let company =
                    accounts::upsert_company(&txn, &company_name, &customer_number, now).await?;
                let new = NewUser {
                    email: &admin_email,
                    name: admin_name.as_deref(),
                    role: Role::CustomerAdmin,
                    company_id: Some(company.id),
                    password_hash: None,
                    language: admin_language,
                };
                accounts::upsert_user(&txn, new, now).await?
            }
        };
        let invitation = self.invite(&txn, admin, Some(&company_name), now).await?;
        txn.commit().await?;
        Ok(invitation)
    }

    /// Invites a colleague into the viewer's company (or, for the back office, a colleague of
    /// the distributor). Sent again for someone still invited, it sends a fresh link. Without
    /// a `language`, the colleague gets the inviter's.
    pub async fn invite_user(
        &self,
        viewer: &Viewer,
        invitee: Invitee<'_>,
        now: DateTime<Utc>,
    ) -> AppResult<Invitation> {
        let Invitee {
            email: email_address,
            name,
            role,
            language,
        } = invitee;
        let company_id = match (viewer.role, role) {
            (Role::BackOffice, Role::BackOffice) => None,
            (Role::BackOffice, _) => {
                return Err(AppError::bad_input(
                    "role",
                    "the back office brings in a customer's first administrator with createCustomer; the administrator invites the rest",
                ));
            }
            (_, Role::BackOffice) => {
                return Err(AppError::Forbidden(
                    "administrators invite people of their own company only",
                ));
            }
            (_, _) => viewer.company_id,
        };
        let email_address = email("email", email_address)?;
        let name = optional_name(name)?;
        let txn = store::begin_write(self.db).await?;
        let language = match language {
            Some(language) => language,
            None => accounts::user_by_id(&txn, viewer.user_id)
                .await?
                .map_or_else(Language::default, |inviter| {
                    Language::of_code(&inviter.language)
                }),
        };
        let user = match accounts::user_by_email(&txn, &email_address).await? {
            Some(existing)
                if existing.status == UserStatus::Invited && existing.company_id == company_id =>
            {
                let new = NewUser {
                    email: &email_address,
                    name: name.as_deref().or(existing.name.as_deref()),
                    role,
                    company_id,
                    password_hash: None,
                    language,
                };
                accounts::upsert_user(&txn, new, now).await?
            }
            Some(_) => {
                return Err(AppError::Conflict(format!(
                    "{email_address} already has an account"
                )));
            }
            None => {
                let new = NewUser {
                    email: &email_address,
                    name: name.as_deref(),
                    role,
                    company_id,
                    password_hash: None,
                    language,
                };
                accounts::upsert_user(&txn, new, now).await?
            }
        };
        let company = match company_id {
            Some(id) => lookups::company(&txn, crate::store::Scope::Everything, id)
                .await?
                .map(|company| company.name),
            None => None,
        };
        let invitation = self.invite(&txn, user, company.as_deref(), now).await?;
        txn.commit().await?;
        Ok(invitation)
    }

    /// Disables a user of the viewer's scope: they cannot sign in, and every token of theirs,
    /// API tokens included, stops working at once. Disabling a disabled user changes nothing.
    pub async fn disable_user(
        &self,
        viewer: &Viewer,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> AppResult<user::Model> {
        let txn = store::begin_write(self.db).await?;
        let Some(target) = lookups::user(&txn, viewer.scope(), user_id).await? else {
            return Err(AppError::NotFound("user".into()));
        };
        if target.id == viewer.user_id {
            return Err(AppError::bad_input(
                "userId",
                "you cannot disable yourself: ask another administrator",
            ));
        }
        if target.status == UserStatus::Disabled {
            return Ok(target);
        }
        let disabled = accounts::disable_user(&txn, target.id, now).await?;
        txn.commit().await?;
        Ok(disabled)
    }
}
