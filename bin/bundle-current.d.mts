/** Whether dist/cli is newer than every file it was built from; `root` is the repository as a file URL. */
export function bundleIsCurrent(root: URL | string): boolean;
