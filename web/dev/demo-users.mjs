// @ts-check
// The people of the local demo, as the local issuer signs them in. Their subjects and e-mail
// addresses match the demo data the dev tool loads (tests/integration/src/demo.rs).

/** @typedef {{ sub: string, email: string, name: string, groups: string[], role: string }} DemoUser */

/** @type {DemoUser[]} */
export const DEMO_USERS = [
  {
    sub: "demo-admin",
    email: "admin@fysio-demo.no",
    name: "Demo Administrator",
    groups: [],
    role: "Administrator for Fysio Demo AS og Psykologene Demo AS",
  },
  {
    sub: "demo-operator",
    email: "drift@bookinglink.no",
    name: "Demo Operatør",
    groups: ["bookinglink-operators"],
    role: "Plattformoperatør",
  },
  {
    sub: "demo-invitee",
    email: "ny.admin@fysio-demo.no",
    name: "Nina Ny",
    groups: [],
    role: "Ny bruker med en invitasjon til Fysio Demo AS",
  },
];

/** The group that makes a caller a platform operator (the template's default setting). */
export const OPERATOR_GROUP = "bookinglink-operators";
export const CLIENT_ID = "bookinglink-admin";
