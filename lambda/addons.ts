import {
  Addon,
  Cluster,
  CreateAddonCommand,
  DeleteAddonCommand,
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  DescribeClusterCommand,
  EKSClient,
  ListFargateProfilesCommand,
  ListNodegroupsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAddonCommand,
} from '@aws-sdk/client-eks';
import type { Calls } from './calls';
import { FailedAction, RequestError, isNotFound } from './errors';
import { isAccessDenied } from './retry';

/** What an add-on's version and configuration are, as a record keeps them. */
export interface AddonSettings {
  readonly addonVersion?: string;
  readonly configurationValues?: string;
}

/**
 * The EKS calls about one cluster's add-on and compute: each with the message that explains its
 * failure, bounded and retried by `Calls`.
 */
export class EksAddons {
  constructor(
    private readonly client: () => EKSClient,
    public readonly calls: Calls,
    public readonly clusterName: string,
    public readonly addonName: string,
  ) {}

  private get eks(): EKSClient {
    return this.client();
  }

  /** The same calls, bounded by the cleanup part of the deadline. */
  public forCleanup(): EksAddons {
    return new EksAddons(this.client, this.calls.forCleanup(), this.clusterName, this.addonName);
  }

  private failed(what: string): FailedAction {
    return { action: `${what} in EKS cluster "${this.clusterName}"`, clusterName: this.clusterName };
  }

  public async describeCluster(): Promise<Cluster> {
    const { cluster } = await this.calls.send(this.failed('read the cluster (its Kubernetes version and Auto Mode)'), 'DescribeCluster',
      options => this.eks.send(new DescribeClusterCommand({ name: this.clusterName }), options));
    if (!cluster) {
      throw new RequestError(this.failed('read the cluster'), new Error('EKS answered without a cluster'));
    }
    return cluster;
  }

  /** Whether the cluster has compute the API can see besides Auto Mode: a managed node group or a Fargate profile. */
  public async hasOtherCompute(): Promise<boolean> {
    const { nodegroups = [] } = await this.calls.send(this.failed('list the managed node groups'), 'ListNodegroups',
      options => this.eks.send(new ListNodegroupsCommand({ clusterName: this.clusterName, maxResults: 1 }), options));
    if (nodegroups.length > 0) {
      return true;
    }
    const { fargateProfileNames = [] } = await this.calls.send(this.failed('list the Fargate profiles'), 'ListFargateProfiles',
      options => this.eks.send(new ListFargateProfilesCommand({ clusterName: this.clusterName, maxResults: 1 }), options));
    return fargateProfileNames.length > 0;
  }

  /** The add-on, or undefined when the cluster has none of that name (ResourceNotFoundException: addon-facts A4). */
  public async describe(): Promise<Addon | undefined> {
    try {
      const { addon } = await this.calls.send(this.failed(`read the add-on ${this.addonName}`), 'DescribeAddon',
        options => this.eks.send(new DescribeAddonCommand({ clusterName: this.clusterName, addonName: this.addonName }), options));
      return addon;
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw error;
    }
  }

  /** EKS's default version of the add-on for a Kubernetes version, or undefined when it names none. */
  public async defaultVersion(kubernetesVersion: string | undefined): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.calls.send(this.failed(`find the default version of the add-on ${this.addonName} for Kubernetes ${kubernetesVersion ?? '(unknown)'}`), 'DescribeAddonVersions',
        options => this.eks.send(new DescribeAddonVersionsCommand({ addonName: this.addonName, kubernetesVersion, nextToken }), options));
      for (const info of page.addons ?? []) {
        const found = info.addonVersions?.find(version =>
          version.compatibilities?.some(c => c.defaultVersion && (!kubernetesVersion || c.clusterVersion === kubernetesVersion)));
        if (found?.addonVersion) {
          return found.addonVersion;
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  public async create(settings: AddonSettings, tags: Record<string, string>, token: string): Promise<Addon> {
    const failed = this.failed(`create the add-on ${this.addonName}${settings.addonVersion ? ` at version ${settings.addonVersion}` : ''}`);
    const { addon } = await this.calls.send(failed, 'CreateAddon', options => this.eks.send(new CreateAddonCommand({
      clusterName: this.clusterName,
      addonName: this.addonName,
      addonVersion: settings.addonVersion,
      configurationValues: settings.configurationValues,
      tags,
      clientRequestToken: token,
    }), options), { fields: { addonVersion: settings.addonVersion } });
    if (!addon?.addonArn) {
      throw new RequestError(failed, new Error('EKS answered without an add-on ARN'));
    }
    return addon;
  }

  /** Sets the version and configuration values given (an absent one is left as it is). */
  public async update(settings: AddonSettings, token: string): Promise<void> {
    await this.calls.send(this.failed(`update the add-on ${this.addonName} (${Object.keys(settings).join(', ')})`), 'UpdateAddon',
      options => this.eks.send(new UpdateAddonCommand({
        clusterName: this.clusterName,
        addonName: this.addonName,
        addonVersion: settings.addonVersion,
        configurationValues: settings.configurationValues,
        clientRequestToken: token,
      }), options), { fields: { addonVersion: settings.addonVersion } });
  }

  /**
   * Deletes the add-on; one that is already gone, or being deleted, is deleted. The handler may
   * delete only an add-on the library created (a tag condition), so an add-on that no longer exists
   * may answer AccessDenied (not documented), as may the retry of a delete whose answer was lost:
   * a denial is checked with DescribeAddon, as for associations (eks.ts).
   */
  public async delete(): Promise<void> {
    try {
      await this.calls.send(this.failed(`delete the add-on ${this.addonName}`), 'DeleteAddon', async options => {
        try {
          return await this.eks.send(new DeleteAddonCommand({ clusterName: this.clusterName, addonName: this.addonName }), options);
        } catch (error) {
          if (isAccessDenied(error)) {
            const now = await this.describe();
            if (!now || now.status === 'DELETING') {
              this.calls.log('gone-behind-access-denied', { operation: 'DeleteAddon', addonName: this.addonName, status: now?.status ?? 'gone' });
              return undefined;
            }
          }
          throw error;
        }
      });
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
    }
  }

  public async tag(addonArn: string, tags: Record<string, string>): Promise<void> {
    await this.calls.send(this.failed(`set tag ${Object.keys(tags).join(', ')} on the add-on ${this.addonName}`), 'TagResource',
      options => this.eks.send(new TagResourceCommand({ resourceArn: addonArn, tags }), options), { fields: { keys: Object.keys(tags) } });
  }

  public async untag(addonArn: string, keys: string[]): Promise<void> {
    await this.calls.send(this.failed(`remove tag ${keys.join(', ')} from the add-on ${this.addonName}`), 'UntagResource',
      options => this.eks.send(new UntagResourceCommand({ resourceArn: addonArn, tagKeys: keys }), options), { fields: { keys } });
  }
}
