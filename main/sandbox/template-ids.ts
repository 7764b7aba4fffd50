// The built-in templates' ids, in order, without their definitions: what the CLI's help text needs
// at start (main/sandbox/templates.ts pulls in the user-templates schema, and with it zod, which
// `moat --version` must not load). templates.ts checks at load that the two lists agree.
export const BUILTIN_TEMPLATE_IDS = ['python', 'shell', 'node', 'c', 'cpp', 'rust', 'go'] as const;
