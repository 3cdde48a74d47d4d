// Types of scripts/package.mjs for the TypeScript tests that check what it packs.
export const PLATFORM_DIRS: Record<string, [platform: string, arch: string]>;
export const ALL_TARGETS: string[];
export const RUNTIME_MODULES: string[];
export function currentTarget(): string;
export function packageVsix(opts?: { target?: string; skipBuild?: boolean }): string;
