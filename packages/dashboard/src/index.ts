export { createDashboard, type Dashboard, type DashboardOptions } from './dashboard.js';
export { CSRF_COOKIE, CSRF_HEADER } from './csrf.js';
export { UI_DIR } from './assets.js';
