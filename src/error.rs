//! The one error type of the API and its one table of AWS error codes and HTTP statuses.
//!
//! Handlers return [`ApiError`]; only the protocol layer turns it into a response.

use std::fmt;

/// Every error code this server can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ResourceNotFound,
    ResourceAlreadyExists,
    Validation,
    InvalidEventPattern,
    ConcurrentModification,
    LimitExceeded,
    ManagedRule,
    IllegalStatus,
    InvalidState,
    Serialization,
    AccessDenied,
    PolicyLengthExceeded,
    UnknownOperation,
    /// One of the 57 operations that this emulator does not implement yet.
    UnsupportedOperation,
    /// Signature checks (`--verify-signatures`).
    MissingAuthenticationToken,
    UnrecognizedClient,
    IncompleteSignature,
    InvalidSignature,
    Internal,
}

impl ErrorCode {
    /// The one table: AWS code and HTTP status. 400 for every client error, 500 only for
    /// `InternalException` (a 5xx makes the SDKs retry).
    pub fn code_and_status(self) -> (&'static str, u16) {
        match self {
            ErrorCode::ResourceNotFound => ("ResourceNotFoundException", 400),
            ErrorCode::ResourceAlreadyExists => ("ResourceAlreadyExistsException", 400),
            ErrorCode::Validation => ("ValidationException", 400),
            ErrorCode::InvalidEventPattern => ("InvalidEventPatternException", 400),
            ErrorCode::ConcurrentModification => ("ConcurrentModificationException", 400),
            ErrorCode::LimitExceeded => ("LimitExceededException", 400),
            ErrorCode::ManagedRule => ("ManagedRuleException", 400),
            ErrorCode::IllegalStatus => ("IllegalStatusException", 400),
            ErrorCode::InvalidState => ("InvalidStateException", 400),
            ErrorCode::Serialization => ("SerializationException", 400),
            ErrorCode::AccessDenied => ("AccessDeniedException", 400),
            ErrorCode::PolicyLengthExceeded => ("PolicyLengthExceededException", 400),
            ErrorCode::UnknownOperation => ("UnknownOperationException", 400),
            ErrorCode::UnsupportedOperation => ("UnsupportedOperationException", 400),
            ErrorCode::MissingAuthenticationToken => ("MissingAuthenticationTokenException", 400),
            ErrorCode::UnrecognizedClient => ("UnrecognizedClientException", 400),
            ErrorCode::IncompleteSignature => ("IncompleteSignatureException", 400),
            ErrorCode::InvalidSignature => ("InvalidSignatureException", 400),
            ErrorCode::Internal => ("InternalException", 500),
        }
    }
}

/// An error as the client will see it: a code from the table and AWS's message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceNotFound, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceAlreadyExists, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn bus_not_found(name: &str) -> Self {
        Self::not_found(format!("Event bus {name} does not exist."))
    }

    pub fn rule_not_found(rule: &str, bus: &str) -> Self {
        Self::not_found(format!("Rule {rule} does not exist on EventBus {bus}."))
    }

    /// AWS's answer to too many resources of a kind (replays running, targets on a rule...).
    pub fn limit_exceeded() -> Self {
        Self::new(
            ErrorCode::LimitExceeded,
            "The requested resource exceeds the maximum number allowed.",
        )
    }

    pub fn unsupported(operation: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedOperation,
            format!("Operation {operation} is not supported by eventbridge-local yet."),
        )
    }

    /// A storage failure: never the client's fault, so a 500 that the SDKs retry.
    pub fn storage(err: impl fmt::Display) -> Self {
        tracing::error!(error = %err, "store error");
        Self::internal("Service encountered unexpected problem. Please try again.")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.code_and_status().0, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::pattern::PatternError> for ApiError {
    fn from(err: crate::pattern::PatternError) -> Self {
        ApiError::new(ErrorCode::InvalidEventPattern, err.message())
    }
}
