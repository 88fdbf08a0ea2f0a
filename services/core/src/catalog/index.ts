export { KernelCatalog, type KernelCatalogOptions, type CatalogState, type CatalogRecord } from './kernel-catalog.ts';
export { CatalogReader, FUNC_SEARCH_MAX } from './catalog-reader.ts';
export { buildCatalogFile, type CatalogBuildStats } from './build-catalog.ts';
export { queryKernels } from './kernel-query.ts';
export { CATALOG_SCHEMA_VERSION } from './catalog-schema.ts';
