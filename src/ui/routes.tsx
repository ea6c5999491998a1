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
  { path: '/node', title: 'Node console', component: lazy(() => import('./node/NodeView')) },
  {
    path: '/hospital',
    title: 'Hospital dashboard',
    component: lazy(() => import('./hospital/HospitalView')),
  },
  {
    path: '/researcher',
    title: 'Researcher workspace',
    component: lazy(() => import('./researcher/ResearcherView')),
  },
];
