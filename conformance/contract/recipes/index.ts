// Every recipe, for every (path, method, status) the document lists.
import type { ContractDocument } from '../document.ts';
import { adminRecipes, unauthorizedRecipes } from './admin.ts';
import { bootstrapRecipes } from './bootstrap.ts';
import { caApiRecipes } from './ca-api.ts';
import type { Recipe } from './recipe.ts';
import { serviceTeamRecipes } from './service-team.ts';
import { webhookRecipes } from './webhooks.ts';

export function allRecipes(document: ContractDocument): Recipe[] {
  return [
    ...bootstrapRecipes,
    ...caApiRecipes,
    ...webhookRecipes,
    ...adminRecipes,
    ...serviceTeamRecipes,
    ...unauthorizedRecipes(document),
  ];
}

