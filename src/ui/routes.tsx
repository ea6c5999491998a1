/**
 * Route table: one entry per role view. Each view lives in its own folder under src/ui/ and is
 * loaded lazily so a node tab does not download the hospital dashboard.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export interface RouteDef {
  path: string;
  title: string;
  component: LazyExoticComponent<ComponentType>;
}

export const routes: RouteDef[] = [
  // Views register here, e.g.
  // { path: '/node', title: 'Node console', component: lazy(() => import('./node/NodeView')) },
  { path: '/node', title: 'Node console', component: lazy(() => import('./node/NodeView')) },
  {
    path: '/hospital',
    title: 'Hospital dashboard',
    component: lazy(() => import('./hospital/HospitalView')),
  },
  {
    path: '/researcher',
    title: 'Researcher',
    component: lazy(() => import('./researcher/ResearcherView')),
  },
];

void lazy;
