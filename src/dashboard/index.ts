// The admin dashboard: a static page served from the binary; it reads the public JSON APIs.
export { type DashboardOptions, dashboardRoutes } from "./routes.ts";
