// A poll response's FileFilterItem for tests: not recursive, nothing excluded, unless told otherwise.
import type { FileFilterItem } from '../../shared/protocol/types.js';

export const filterItem = (Path: string, Filter: string, more: Partial<FileFilterItem> = {}): FileFilterItem => ({
  Path, Filter, Recursive: false, ExcludeCompressed: false, ExcludeEncrypted: false, ...more,
});
