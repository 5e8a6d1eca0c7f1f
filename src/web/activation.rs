//! The activation page that the invitation mail links to (`PUBLIC_URL/activate?token=…`), so
//! that a new customer's first click works without any frontend: a plain HTML form that sets
//! the password through the same code as `activateAccount`, then sends the person on to
//! `PORTAL_HOME_URL`.
//!
//! The token in the form is the only credential (no cookie), so another site cannot make a
//! browser use it; the page loads nothing, runs no script, and its Content-Security-Policy
//! allows only its own inline style and a form sent here (then on to the home page).

use std::sync::{Arc, LazyLock};

use axum::{
    Extension, Form,
    extract::{
        Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::{
    app::App,
    auth::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, WeakPassword, check_new_password},
    error::AppError,
};

/// Where a person goes once their password is set, and the page's security policy.
#[derive(Clone, Debug)]
pub struct ActivationPage {
    home_url: Arc<str>,
    content_security_policy: HeaderValue,
}

impl ActivationPage {
    /// The page for a service whose home page is `home_url` (`Config::home_url`, checked).
    pub fn new(home_url: &str) -> Self {
        // A redirect after a form is bound by `form-action` too.
        let home = url::Url::parse(home_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        let policy = format!(
            "default-src 'none'; style-src '{}'; form-action 'self' {home}; frame-ancestors 'none'; base-uri 'none'",
            *STYLE_HASH
        );
        Self {
            home_url: home_url.into(),
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }
}

const STYLE: &str = "body{font:1rem/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;background:#f4f5f7;color:#1b1d21}main{max-width:28rem;margin:auto;background:#fff;padding:1.5rem 2rem;border-radius:.5rem}label{display:block;font-weight:600;margin-top:1rem}input{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;margin:.25rem 0;border:1px solid #6b7280;border-radius:.25rem}button{font:inherit;margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:.25rem;background:#1d4ed8;color:#fff}input:focus,button:focus{outline:3px solid #f59e0b;outline-offset:2px}.problem{color:#b91c1c;font-weight:600}";

/// The `style-src` source that allows exactly [`STYLE`].
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

/// The languages the page speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Language {
    English,
    Dutch,
}

impl Language {
    /// The language of `Accept-Language` the person prefers most, English when it names
    /// neither.
    fn preferred(headers: &HeaderMap) -> Self {
        let accepted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let mut best = (Self::English, 0.0);
        for entry in accepted.split(',') {
            let mut parts = entry.split(';').map(str::trim);
            let tag = parts.next().unwrap_or_default();
            let weight = parts
                .find_map(|part| part.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())
                .unwrap_or(0.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let language = if primary.eq_ignore_ascii_case("nl") {
                Self::Dutch
            } else if primary.eq_ignore_ascii_case("en") {
                Self::English
            } else {
                continue;
            };
            if weight > best.1 {
                best = (language, weight);
            }
        }
        best.0
    }

    fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Dutch => "nl",
        }
    }

    fn text(self, english: &'static str, dutch: &'static str) -> &'static str {
        match self {
            Self::English => english,
            Self::Dutch => dutch,
        }
    }

    fn weak(self, weak: &WeakPassword) -> String {
        match (self, weak) {
            (Self::English, WeakPassword::TooShort) => {
                format!("The password must have at least {MIN_PASSWORD_CHARS} characters.")
            }
            (Self::Dutch, WeakPassword::TooShort) => {
                format!("Het wachtwoord moet minstens {MIN_PASSWORD_CHARS} tekens hebben.")
            }
            (Self::English, WeakPassword::TooLong) => {
                format!("The password must have at most {MAX_PASSWORD_CHARS} characters.")
            }
            (Self::Dutch, WeakPassword::TooLong) => {
                format!("Het wachtwoord mag hoogstens {MAX_PASSWORD_CHARS} tekens hebben.")
            }
            (Self::English, WeakPassword::IsTheEmail) => {
                "The password must not be your e-mail address.".to_owned()
            }
            (Self::Dutch, WeakPassword::IsTheEmail) => {
                "Het wachtwoord mag niet uw e-mailadres zijn.".to_owned()
            }
        }
    }

    fn rules(self) -> String {
        match self {
            Self::English => {
                format!("At least {MIN_PASSWORD_CHARS} characters, and not your e-mail address.")
            }
            Self::Dutch => {
                format!("Minstens {MIN_PASSWORD_CHARS} tekens, en niet uw e-mailadres.")
            }
        }
    }
}

/// `?token=…` of the mailed link.
#[derive(serde::Deserialize)]
pub struct Link {
    #[serde(default)]
    token: String,
}

/// The form as the browser sends it.
#[derive(serde::Deserialize)]
pub struct Submitted {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// `GET /activate?token=…`: the form, or why the link no longer works.
pub async fn show(
    State(app): State<App>,
    Extension(page): Extension<Arc<ActivationPage>>,
    headers: HeaderMap,
    link: Result<Query<Link>, QueryRejection>,
) -> Response {
    let language = Language::preferred(&headers);
    let token = link.map(|Query(link)| link.token).unwrap_or_default();
    match pending(&app, &token).await {
        Ok(Some(email)) => page.form(language, &token, &email, None, StatusCode::OK),
        Ok(None) => page.link_expired(language),
        Err(error) => page.failed(language, error),
    }
}

/// `POST /activate`: sets the password and sends the person on to the home page, or shows
/// the form again with the reason.
pub async fn submit(
    State(app): State<App>,
    Extension(page): Extension<Arc<ActivationPage>>,
    headers: HeaderMap,
    form: Result<Form<Submitted>, FormRejection>,
) -> Response {
    let language = Language::preferred(&headers);
    let Ok(Form(submitted)) = form else {
        return page.link_expired(language);
    };
    let email = match pending(&app, &submitted.token).await {
        Ok(Some(email)) => email,
        Ok(None) => return page.link_expired(language),
        Err(error) => return page.failed(language, error),
    };
    if let Err(weak) = check_new_password(&submitted.password, &email) {
        let reason = language.weak(&weak);
        return page.form(
            language,
            &submitted.token,
            &email,
            Some(&reason),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let services = app.services();
    // The session it opens is not handed to the browser: the person signs in on the home page.
    match app
        .services()
        .sessions()
        .activate(&submitted.token, &submitted.password, services.clock.now())
        .await
    {
        Ok(_) => Redirect::to(&page.home_url).into_response(),
        Err(AppError::BadUserInput { field, message }) if field.as_deref() != Some("token") => page
            .form(
                language,
                &submitted.token,
                &email,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        Err(AppError::BadUserInput { .. }) => page.link_expired(language),
        Err(error) => page.failed(language, error),
    }
}

async fn pending(app: &App, token: &str) -> Result<Option<String>, AppError> {
    if token.is_empty() {
        return Ok(None);
    }
    app.services()
        .sessions()
        .pending_activation(token, app.services().clock.now())
        .await
}

impl ActivationPage {
    fn form(
        &self,
        language: Language,
        token: &str,
        email: &str,
        problem: Option<&str>,
        status: StatusCode,
    ) -> Response {
        let title = language.text("Set your password", "Stel uw wachtwoord in");
        let intro = language.text("Choose a password for", "Kies een wachtwoord voor");
        let label = language.text("New password", "Nieuw wachtwoord");
        let button = language.text("Set password", "Wachtwoord instellen");
        let (problem_html, described_by) = match problem {
            Some(problem) => (
                format!(
                    r#"<p class="problem" id="problem" role="alert">{}</p>"#,
                    escape(problem)
                ),
                "problem rules",
            ),
            None => (String::new(), "rules"),
        };
        let body = format!(
            r#"<h1>{title}</h1>
<p>{intro} <strong>{email}</strong>.</p>
<form method="post" action="activate">
<input type="hidden" name="token" value="{token}">
<input type="email" name="username" value="{email}" autocomplete="username" hidden readonly>
{problem_html}
<label for="password">{label}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="{MIN_PASSWORD_CHARS}" maxlength="{MAX_PASSWORD_CHARS}" aria-describedby="{described_by}" aria-invalid="{invalid}">
<p id="rules">{rules}</p>
<button type="submit">{button}</button>
</form>"#,
            email = escape(email),
            token = escape(token),
            rules = escape(&language.rules()),
            invalid = problem.is_some(),
        );
        self.respond(status, language, title, &body)
    }

    fn link_expired(&self, language: Language) -> Response {
        let title = language.text("This link no longer works", "Deze link werkt niet meer");
        let body = language.text(
            "It was used already, has expired, or was replaced by a newer one. Ask your administrator for a new invitation.",
            "De link is al gebruikt, verlopen of vervangen door een nieuwere. Vraag uw beheerder om een nieuwe uitnodiging.",
        );
        self.notice(StatusCode::GONE, language, title, body)
    }

    fn failed(&self, language: Language, error: AppError) -> Response {
        match &error {
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "activation page failed");
            }
            other => tracing::warn!(error = %other, "activation page failed"),
        }
        let title = language.text("Something went wrong", "Er ging iets mis");
        let body = language.text(
            "Your password was not set. Please try again in a few minutes.",
            "Uw wachtwoord is niet ingesteld. Probeer het over enkele minuten opnieuw.",
        );
        self.notice(StatusCode::INTERNAL_SERVER_ERROR, language, title, body)
    }

    /// A page that only tells something: a title and a paragraph.
    fn notice(&self, status: StatusCode, language: Language, title: &str, body: &str) -> Response {
        self.respond(
            status,
            language,
            title,
            &format!("<h1>{title}</h1>\n<p>{body}</p>"),
        )
    }

    fn respond(&self, status: StatusCode, language: Language, title: &str, body: &str) -> Response {
        let html = format!(
            r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#,
            lang = language.code(),
        );
        let mut response = (status, Html(html)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            self.content_security_policy.clone(),
        );
        // The address holds the token: no other site may see it in a Referer.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// Text made safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_most_preferred_of_dutch_and_english() {
        for (accepted, expected) in [
            ("", Language::English),
            ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", Language::Dutch),
            ("en-GB,en;q=0.9,nl;q=0.8", Language::English),
            ("de-DE,de;q=0.9,nl;q=0.5,en;q=0.4", Language::Dutch),
            ("fr", Language::English),
            ("en;q=0.2, NL-be;q=0.6", Language::Dutch),
            ("nl;q=0", Language::English),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(accepted));
            assert_eq!(Language::preferred(&headers), expected, "{accepted}");
        }
    }

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
