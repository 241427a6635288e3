//! Wire types only: the JSON shapes of the OpenAI and Anthropic APIs, as clients and upstreams
//! send them. No logic beyond small accessors; translation lives in `providers`.

pub mod anthropic;
pub mod messages;
pub mod openai;
pub mod responses;
