//! The black-box tests, in one binary so that the crate is linked into tests once. A module per
//! behaviour: the function through its handlers, as Lambda delivers API Gateway and SQS events,
//! against the BMS sandbox, moto's Secrets Manager and SQS, and a headless browser; the real
//! binary under a Lambda Runtime API; the install scripts and the SAM template.
//! `cargo test --test api tickets::` runs one module.
//!
//! The tests run side by side in this one process: what a process has once (the AWS settings in
//! its environment, the log subscriber, moto) is set up in `support` to serve them all.

mod helpers;
mod support {
    pub mod cases;
    pub mod lambda;
    pub mod logs;
    pub mod moto;
    pub mod parking;
    pub mod sqs;
}

mod bad_input;
mod browser;
mod button_keys;
mod clients;
mod customers;
mod demo_ports;
mod desktop;
mod docs;
mod duplicates;
mod events;
mod faults;
mod follow_up;
mod keys;
mod line_breaks;
mod logging;
mod openapi;
mod osticket;
mod parking;
mod privacy;
mod properties;
mod redirects;
mod release;
mod replay;
mod round_trips;
mod routing;
mod rules;
mod rules_parameter;
mod secrets;
mod structure;
mod template;
mod tickets;
