import * as path from 'path';
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { MultiprocessingImageCode } from '../src';

/** Props of {@link ImageFunctionsExampleStack}. */
export interface ImageFunctionsExampleProps extends StackProps {
  /**
   * The base image (examples/image/Dockerfile's BASE_IMAGE), for a test that builds on a stand-in.
   *
   * @default public.ecr.aws/lambda/python:3.12
   */
  readonly baseImage?: string;
}

/**
 * Container image functions with the fix: one image directory (examples/image), one line in its Dockerfile,
 * built for x86_64 and arm64; and a control function, the same image without that line, which fails the
 * way Lambda fails it.
 */
export class ImageFunctionsExampleStack extends Stack {
  public readonly x86: lambda.DockerImageFunction;
  public readonly arm: lambda.DockerImageFunction;
  public readonly control: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: ImageFunctionsExampleProps = {}) {
    super(scope, id, props);
    const directory = path.join(__dirname, 'image');
    const buildArgs = props.baseImage === undefined ? undefined : { BASE_IMAGE: props.baseImage };
    // One code value for both architectures: each function gets an image with the library of its own.
    const code = MultiprocessingImageCode.fromImageAsset(directory, { buildArgs });
    const common = { code, memorySize: 1769, timeout: Duration.seconds(60) };
    this.x86 = new lambda.DockerImageFunction(this, 'ImageX86', { ...common, architecture: lambda.Architecture.X86_64 });
    this.arm = new lambda.DockerImageFunction(this, 'ImageArm', { ...common, architecture: lambda.Architecture.ARM_64 });
    // The Dockerfile's `app` stage is the image before the one line.
    this.control = new lambda.DockerImageFunction(this, 'ImageControl', {
      ...common,
      code: lambda.DockerImageCode.fromImageAsset(directory, { buildArgs, target: 'app' }),
    });
  }
}

/**
 * PyTorch's DataLoader with 4 worker processes (examples/pytorch-dataloader): the README's first example,
 * as the image function it has to be (torch does not fit in a zip function's 250 MB).
 */
export class PyTorchDataLoaderExampleStack extends Stack {
  public readonly loader: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.loader = new lambda.DockerImageFunction(this, 'DataLoader', {
      code: MultiprocessingImageCode.fromImageAsset(path.join(__dirname, 'pytorch-dataloader')),
      architecture: lambda.Architecture.ARM_64,
      // 4 workers and the main process, each with torch loaded: about 300 MB each.
      memorySize: 3008,
      timeout: Duration.minutes(2),
    });
  }
}
