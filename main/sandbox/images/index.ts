// Images for the templates: which one a sandbox uses (official registry image or a local build),
// pulling the official one when asked, and building the local ones from Debian packages with
// debootstrap for machines that reach no container registry (`moat images build`).
// Everything takes the dockerode client as a parameter; nothing here keeps state between calls.
export * from './recipe';
export * from './apt-sources';
export * from './resolve';
export * from './build';
