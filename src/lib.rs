//! Usher: a single-binary server implementing Grafana's user and administration HTTP APIs.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod memory;
pub mod provisioning;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
pub mod web;
